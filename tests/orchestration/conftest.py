"""Orchestration tests read the session's built homes (tests/published.py: `published_build`,
`rebuilt_build`, registered in tests/conftest.py) and copy one with `copy_home` before changing it."""
