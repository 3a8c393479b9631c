"""What a viewer sees in a real browser: her team's container without any
button that changes it, and another team's container as if it did not exist."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import VIEWER_PASSWORD, log_in, screenshot


def own_by_team(portal, team: str, engine_id: str, member: str = "") -> None:
    """Make a team (with ``member``, if given) own a container, as an admin would."""
    portal.manage(
        "shell",
        "-c",
        "from apps.accounts.models import Team, User; "
        "from apps.containers.environments import default_environment; "
        "from apps.containers.models import ResourceOwnership; "
        f"team, _ = Team.objects.get_or_create(name='{team}'); "
        f"member = User.objects.filter(username='{member}').first(); "
        "member and team.user_set.add(member); "
        "ResourceOwnership.objects.create(environment=default_environment(), "
        f"kind='container', engine_id='{engine_id}', owner_team=team)",
    )


def test_a_viewer_sees_no_stop_button_and_404_for_another_teams_container(
    portal, page, make_container, unique_name
):
    tab, problems = page
    ours, theirs = f"{unique_name}-ours", f"{unique_name}-theirs"
    own_by_team(portal, "red", make_container(ours), member="vera")
    own_by_team(portal, "blue", make_container(theirs))
    log_in(tab, portal, "vera", VIEWER_PASSWORD)

    tab.goto(portal.base + f"/containers/{ours}/")
    expect(tab.locator("h1 [data-state]")).to_have_text("running")
    expect(tab.locator("button", has_text="Stop")).to_have_count(0)
    expect(tab.locator("button", has_text="Remove")).to_have_count(0)
    expect(tab.locator(".tabs a", has_text="Terminal")).to_have_count(0)

    tab.goto(portal.base + "/containers/")
    expect(tab.locator(f"tr[data-container='{ours}']")).to_have_count(1)
    expect(tab.locator(f"tr[data-container='{theirs}']")).to_have_count(0)
    expect(tab.locator("button[data-action=stop]")).to_have_count(0)

    response = tab.goto(portal.base + f"/containers/{theirs}/")
    assert response is not None and response.status == 404
    expect(tab.locator(".status-code")).to_have_text("404")
    screenshot(tab, "viewer-404")
    assert problems.csp() == []
