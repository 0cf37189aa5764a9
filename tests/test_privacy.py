"""Privacy requests: `symmetry export person` and `symmetry forget`, run through the command
line on a workspace filled by the app's own flows (tests/privacy_helpers.py)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SALARIEE
from tests.privacy_helpers import dump, populate, tables_naming


@pytest.fixture
def populated(app, slack, db):
    populate(app, slack, db)
    return app


class TestExplore:
    def test_explore(self, populated, db, cli):
        """explore"""
        print(tables_naming(db.engine, SALARIEE))
        ran = cli.run("export", "person", "--user", SALARIEE)
        print(ran.status, ran.err, ran.out)
        d = dump(db.engine)
        print({k: len(json.loads(v)) for k, v in d.items()})
        ran = cli.run("forget", "--user", SALARIEE)
        print(ran.status, ran.err, ran.out)
        print(tables_naming(db.engine, SALARIEE))
        for t in tables_naming(db.engine, SALARIEE):
            print(t, dump(db.engine)[t][:3000])
        assert 0
