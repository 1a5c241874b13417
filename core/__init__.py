"""The bottom layer: small infrastructure every app may use (the HTTP/API kit, problem+json,
domain errors, time formatting, enqueue-after-commit). It imports no app of this project."""
