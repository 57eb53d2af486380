"""The password policy (config `admin`): pure checks, one clear message per broken rule.

    problems = password_problems(settings.admin, "newpass", username="agent07", old="...")
    # [] when the password is acceptable

Checked when a user changes their password (POST /api/auth/password) and when an
administrator creates a user or sets a temporary password (admin/users.py). It lives in
the platform because sign-in does (the platform imports no feature)."""

from __future__ import annotations

from dataclasses import dataclass

from kernel.config.backoffice import AdminSettings


@dataclass(frozen=True, slots=True)
class Problem:
    code: str  # too_short, needs_letter, needs_digit, is_username, same_as_old
    message: str


def password_problems(
    policy: AdminSettings, password: str, *, username: str, old: str | None = None
) -> list[Problem]:
    out: list[Problem] = []
    if len(password) < policy.password_min_length:
        out.append(
            Problem(
                "too_short",
                f"the password needs at least {policy.password_min_length} characters "
                f"(密码至少 {policy.password_min_length} 个字符)",
            )
        )
    if policy.password_needs_letter and not any(c.isalpha() for c in password):
        out.append(Problem("needs_letter", "the password needs a letter (密码须包含字母)"))
    if policy.password_needs_digit and not any(c.isdigit() for c in password):
        out.append(Problem("needs_digit", "the password needs a digit (密码须包含数字)"))
    if username and username.casefold() in password.casefold():
        out.append(
            Problem(
                "is_username",
                "the password must not contain the username (密码不能包含用户名)",
            )
        )
    if old is not None and password == old:
        out.append(
            Problem(
                "same_as_old",
                "the new password must differ from the old one (新密码不能与旧密码相同)",
            )
        )
    return out


def describe(problems: list[Problem]) -> str:
    return "; ".join(p.message for p in problems)
