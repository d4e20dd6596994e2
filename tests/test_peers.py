"""The peer-version helper skips only releases listed as known to change a peer's numbers."""

from __future__ import annotations

import pytest

import peers


def test_version_predicates():
    assert peers._matches("1.8.5", "<1.9") and not peers._matches("1.9.0", "<1.9")
    assert peers._matches("1.10.0", ">=1.9") and peers._matches("2.0", ">1.9.9")
    assert peers._matches("7.1", "==7.1") and not peers._matches("7.1.1", "==7.1")


def test_known_change_skips_with_reason(monkeypatch):
    monkeypatch.setattr(peers, "KNOWN_CHANGES", [("pytest", ">=0", "demo reason")])
    monkeypatch.setitem(peers.CHECKED, "pytest", "0")
    with pytest.raises(pytest.skip.Exception, match="demo reason"):
        peers.peer("pytest")


def test_unlisted_release_runs_and_every_peer_is_recorded():
    assert peers.peer("pytest") is pytest  # no known change listed: the comparison runs
    for name in peers.CHECKED:
        assert peers._parse(peers.CHECKED[name])  # a parseable version for every peer
