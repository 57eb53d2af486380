"""Quality inspection (质检): scoring forms, scores per call and agent, sampling, the
agent evaluation that combines surveys, QA scores and supervisor ratings; the /qa/ page."""
