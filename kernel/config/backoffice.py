"""Settings of the back office: work-order attachments (tickets/workbench), quality
inspection (qa/), administration (admin/), privacy (privacy/) and staffing (reports/).

One class per area; each area's owner fills in its fields with defaults, so a
config.yaml without the section keeps working."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from kernel.config.common import Label, Name, Strict


class AttachmentSettings(Strict):
    """Photos and documents attached to work orders (tickets/attachments.py). Files are
    kept under `root` (like recordings), sealed with HOTLINE_AT_REST_KEY when it is set;
    a file larger than `max_bytes` or whose first bytes are not one of `types` is refused."""

    root: str = "var/attachments"
    max_bytes: int = Field(10 * 1024 * 1024, ge=1024, le=200 * 1024 * 1024)
    types: list[Literal["image/jpeg", "image/png", "image/webp", "application/pdf"]] = [
        "image/jpeg",
        "image/png",
        "image/webp",
        "application/pdf",
    ]


class QaCriterion(Strict):
    """One line of a scoring form: points 0..max_points, counted with `weight`."""

    key: Name
    label: Label
    weight: float = Field(gt=0, le=100)
    max_points: int = Field(ge=1, le=100)


class QaFatalError(Strict):
    """A fault that makes the whole call's score 0, whatever the criteria say."""

    key: Name
    label: Label


class QaForm(Strict):
    key: Name
    label: Label
    criteria: list[QaCriterion] = Field(min_length=1, max_length=50)
    fatal_errors: list[QaFatalError] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _unique_keys(self) -> QaForm:
        keys = [c.key for c in self.criteria] + [f.key for f in self.fatal_errors]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(f"form {self.key!r}: keys used twice: {', '.join(twice)}")
        return self


def _label(zh: str, en: str) -> Label:
    return Label(zh=zh, en=en)


# A utility hotline's call (power, water, gas): what an inspector listens for.
UTILITY_CALL_FORM = QaForm(
    key="utility_call",
    label=_label("公用事业热线通话质检", "Utility hotline call"),
    criteria=[
        QaCriterion(
            key="greeting", label=_label("规范问候语", "Greeting"), weight=10, max_points=5
        ),
        QaCriterion(
            key="identity_check",
            label=_label("核实客户身份", "Identity verification"),
            weight=15,
            max_points=5,
        ),
        QaCriterion(
            key="understanding",
            label=_label("准确理解问题", "Problem understanding"),
            weight=20,
            max_points=5,
        ),
        QaCriterion(
            key="correct_info",
            label=_label("答复信息准确", "Correct information"),
            weight=25,
            max_points=5,
        ),
        QaCriterion(
            key="ticket_complete",
            label=_label("工单记录完整", "Ticket completeness"),
            weight=15,
            max_points=5,
        ),
        QaCriterion(key="courtesy", label=_label("礼貌耐心", "Courtesy"), weight=10, max_points=5),
        QaCriterion(key="closing", label=_label("规范结束语", "Closing"), weight=5, max_points=5),
    ],
    fatal_errors=[
        QaFatalError(key="rude", label=_label("对客户态度恶劣", "Rude to the customer")),
        QaFatalError(
            key="data_disclosed",
            label=_label("向他人泄露客户个人信息", "Disclosed personal data to the wrong person"),
        ),
        QaFatalError(
            key="gas_leak_not_escalated",
            label=_label("燃气泄漏来电未升级处理", "Gas-leak call not escalated"),
        ),
    ],
)


class QaEvaluationWeights(Strict):
    """How an agent's evaluation weighs its angles (seed 003: customer evaluation,
    inspection, the supervisor's view). An angle without data is left out and the others
    are re-weighted."""

    survey: float = Field(0.3, ge=0, le=1)  # customer survey ratings (1-5)
    qa: float = Field(0.5, ge=0, le=1)  # QA scores (0-100)
    supervisor: float = Field(0.2, ge=0, le=1)  # supervisor ratings (1-5)

    @model_validator(mode="after")
    def _some_weight(self) -> QaEvaluationWeights:
        if self.survey + self.qa + self.supervisor <= 0:
            raise ValueError("at least one evaluation weight must be above 0")
        return self


class QaSettings(Strict):
    """Quality inspection: scoring forms, sampling, the agents' evaluation."""

    forms: list[QaForm] = Field(default_factory=lambda: [UTILITY_CALL_FORM], min_length=1)
    default_form: Name = "utility_call"
    samples_per_agent_week: int = Field(3, ge=1, le=100)  # calls drawn per agent per week
    evaluation: QaEvaluationWeights = QaEvaluationWeights()
    evaluation_days: int = Field(90, ge=1, le=366)  # the window an evaluation reads

    @model_validator(mode="after")
    def _forms_known(self) -> QaSettings:
        keys = [f.key for f in self.forms]
        if len(set(keys)) != len(keys):
            raise ValueError("qa.forms: two forms have the same key")
        if self.default_form not in keys:
            raise ValueError(
                f"qa.default_form {self.default_form!r} is not one of the forms: {', '.join(keys)}"
            )
        return self

    def form(self, key: str) -> QaForm | None:
        return next((f for f in self.forms if f.key == key), None)


class AdminSettings(Strict):
    """Administration: password policy (agent_api/password_policy.py), checked when a
    user changes their password and when an administrator sets a temporary one."""

    password_min_length: int = Field(10, ge=6, le=128)
    password_needs_letter: bool = True
    password_needs_digit: bool = True
    # Temporary passwords an administrator sets must be changed at the next sign-in.
    force_change_after_reset: bool = True


class PrivacySettings(Strict):
    """PIPL: masking by role, encryption at rest, customer-file read limits.

    Numbers: customers' phone numbers (and ID numbers) are masked (139****5678) in API
    responses, the screen-pop, exports and the server log, except for the roles in
    `full_number_roles`, whose every display of a full number is audited
    ("customer.number_shown"). Agents dial a customer by the file's phone index, never by
    a number they were shown. The encryption key is not here: HOTLINE_AT_REST_KEY.

    Files: outside a call, an agent opens a customer file only if an own search returned
    it in the last `search_grant_minutes`, or with a stated reason (audited); more than
    `reads_per_window` file reads and searches in `read_window_minutes` are refused
    (429) and alert the supervisors."""

    mask_numbers: bool = True
    # Who sees full numbers: supervisors (call-backs, complaints) and administrators
    # (they edit the phone list). Agents and QA inspectors see masked numbers.
    full_number_roles: list[Literal["agent", "supervisor", "qa", "admin"]] = [
        "supervisor",
        "admin",
    ]
    mask_logs: bool = True
    search_grant_minutes: int = Field(30, ge=1, le=24 * 60)
    reads_per_window: int = Field(60, ge=1, le=10_000)
    read_window_minutes: int = Field(10, ge=1, le=24 * 60)
    # IVR: a customer with a PIN (PUT /api/privacy/customers/{id}/pin) enters it before
    # hearing the balance; after ivr_pin_attempts wrong PINs the caller goes to an agent.
    ivr_pin: bool = False
    ivr_pin_attempts: int = Field(3, ge=1, le=10)


class StaffingSettings(Strict):
    """The staffing forecast on the reports page (Erlang C / A, reports/staffing.py):
    next week's calls per interval from the last `history_weeks` weeks, and the agents
    each queue's service_level target needs."""

    history_weeks: int = Field(8, ge=1, le=26)
    interval_minutes: Literal[15, 30, 60] = 30
    # A business-calendar holiday in the forecast week: "closed" = no calls except in
    # routing.emergency_queues (the center is closed); "history" = the mean of the
    # holidays in the history window (the weekday's profile when there is none).
    holidays: Literal["closed", "history"] = "closed"
    # AHT when a queue has no answered call in the history.
    default_aht_seconds: float = Field(180, gt=0, le=7200)
    # Agents scheduled = needed / (1 - shrinkage) (breaks, training, absence).
    shrinkage: float = Field(0.0, ge=0, le=0.9)
    # Occupancy cap (A / N); 1.0 = pure Erlang C.
    max_occupancy: float = Field(1.0, gt=0.3, le=1.0)
    # Mean caller patience: when set, each interval also gives Erlang A's abandon rate.
    patience_seconds: float | None = Field(None, gt=0, le=3600)
