"""Quality assurance: a reproducible monthly sample of each agent's recorded calls, scored on versioned
forms with weighted criteria; the agent acknowledges or disputes, reviewers calibrate on the same call."""
