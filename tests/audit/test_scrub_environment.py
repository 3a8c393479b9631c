"""The portal environment's name stays readable in audit details."""

from apps.audit.scrub import scrub


def test_the_environment_name_is_kept_while_container_env_values_are_masked():
    details = {
        "environment": "local",
        "spec": {"env": ["DB_PASSWORD=hunter2"]},
        "kwargs": {"environment": {"TOKEN": "abc"}},
    }

    clean = scrub(details)

    assert clean["environment"] == "local"
    assert clean["spec"]["env"] == ["DB_PASSWORD=***"]
    assert clean["kwargs"]["environment"] == {"TOKEN": "***"}
