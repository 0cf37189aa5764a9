"""Storage: migrations on both backends, and the query functions the domain relies on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import inspect

from storage import queries
from storage.db import alembic_config, pending_migrations, ping, upgrade
from storage.models import Base, Team


class TestMigrations:
    def test_migrated_schema_matches_the_models(self, db):
        """After upgrade, every model table exists and no migration is pending."""
        tables = set(inspect(db.engine).get_table_names())
        assert {t.name for t in Base.metadata.sorted_tables} <= tables
        assert not pending_migrations(db.engine)

    def test_downgrade_and_upgrade_again(self, db):
        """The migrations go down to nothing and back up without error."""
        command.downgrade(alembic_config(db.engine), "base")
        assert pending_migrations(db.engine)
        assert "teams" not in inspect(db.engine).get_table_names()
        upgrade(db.engine)
        assert not pending_migrations(db.engine)

    def test_ping(self, db):
        """ping is true for a reachable database."""
        assert ping(db.engine)


class TestQueries:
    def test_workspace_is_created_once(self, db):
        """get_or_create_workspace returns the same row for the same Slack team."""
        with db.sessions.begin() as session:
            first = queries.get_or_create_workspace(session, slack_team_id="T0STORE01").id
        with db.sessions.begin() as session:
            again = queries.get_or_create_workspace(session, slack_team_id="T0STORE01").id
        assert first == again

    def test_members_and_managers(self, db):
        """set_members reports joins and departures; names are unique without regard to case."""
        with db.sessions.begin() as session:
            workspace = queries.get_or_create_workspace(session, slack_team_id="T0STORE02")
            team = Team(
                workspace_id=workspace.id,
                name="Atelier",
                channel_id="C1",
                timezone="UTC",
                locale="en",
            )
            session.add(team)
            session.flush()
            assert queries.set_members(session, team=team, user_ids=["U1", "U2"]) == (2, 0)
            assert queries.set_members(session, team=team, user_ids=["U2", "U3"]) == (1, 1)
            queries.set_managers(session, team=team, user_ids=["U9"])
            assert queries.add_member(session, team=team, user_id="U4")
            assert not queries.add_member(session, team=team, user_id="U4")
            assert queries.get_team_by_name(session, workspace_id=workspace.id, name=" atelier ")
            managed = queries.teams_managed_by(session, workspace_id=workspace.id, user_id="U9")
            assert [t.name for t in managed] == ["Atelier"]
            assert queries.remove_member(session, team=team, user_id="U2")
            assert not queries.remove_member(session, team=team, user_id="U2")
            assert {m.user_id for m in team.memberships} == {"U3", "U4"}

    def test_event_claims(self, db):
        """An event_id is claimed once; a released claim can be claimed again; old ones go."""
        with db.sessions.begin() as session:
            assert queries.claim_event(session, event_id="Ev1")
            assert not queries.claim_event(session, event_id="Ev1")
            queries.release_event(session, event_id="Ev1")
            assert queries.claim_event(session, event_id="Ev1")
        later = datetime.now(UTC) + timedelta(days=2)
        with db.sessions.begin() as session:
            assert queries.prune_events(session, before=later) == 1
