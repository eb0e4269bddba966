"""Ruleset versions: saved, cached, pushed to the site's channel, and checked against fires."""

from __future__ import annotations

import asyncio
import json

import pytest
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend

from bpract.store import Database
from bpract.triggers.edits import add_rule, remove_rule, replace_rule
from bpract.triggers.errors import DuplicateRuleError, UnknownRuleError
from bpract.triggers.service import TriggerService
from bpract.triggers.spec import load_rule
from support.eventually import eventually_async
from triggers.support import FakeClock, fire, save

ONE = "rules:\n  - {id: one, message: {text: first}}\n"
TWO = "rules:\n  - {id: one, message: {text: first}}\n  - {id: two, message: {text: second}}\n"


async def test_no_ruleset_yet_is_version_zero_with_default_policy(
    service: TriggerService, site_id: int
) -> None:
    body = await service.ruleset_json(site_id)
    assert body["version"] == 0
    assert body["rules"] == []
    assert body["policy"]["interruption_budget"] == 2


async def test_each_save_is_a_new_version(service: TriggerService, site_id: int) -> None:
    assert await save(service, site_id, ONE) == 1
    assert await save(service, site_id, TWO) == 2
    body = await service.ruleset_json(site_id)
    assert body["version"] == 2
    assert [r["id"] for r in body["rules"]] == ["one", "two"]
    versions = await service.versions(site_id)
    assert [(v.version, v.source, v.author) for v in versions] == [
        (2, TWO, "test"),
        (1, ONE, "test"),
    ]


async def test_versions_are_per_site(
    service: TriggerService, site_id: int, other_site_id: int
) -> None:
    await save(service, site_id, ONE)
    await save(service, site_id, TWO)
    assert await save(service, other_site_id, ONE) == 1
    assert (await service.ruleset_json(other_site_id))["version"] == 1


async def test_save_publishes_a_rules_frame_on_the_site_channel(
    db: Database, clock: FakeClock, site_id: int, other_site_id: int
) -> None:
    channels = ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True)
    async with channels:
        service = TriggerService(db, channels, now_ms=clock)
        async with (
            channels.start_subscription(f"site:{site_id}") as mine,
            channels.start_subscription(f"site:{other_site_id}") as other,
        ):
            version = await save(service, site_id, TWO)
            raw = await asyncio.wait_for(anext(mine.iter_events()), timeout=5)
            frame = json.loads(raw)
            assert frame["t"] == "rules"
            assert frame["ruleset"]["version"] == version
            assert frame["ruleset"] == await service.engine_ruleset(site_id)
            assert "message" not in frame["ruleset"]["rules"][0]
            assert other.qsize == 0


async def test_another_process_save_is_seen_after_the_cache_ttl(
    db: Database, clock: FakeClock, site_id: int
) -> None:
    reader = TriggerService(db, None, now_ms=clock, cache_ttl_s=5)
    writer = TriggerService(db, None, now_ms=clock)
    await save(writer, site_id, ONE)
    assert (await reader.ruleset_json(site_id))["version"] == 1
    await save(writer, site_id, TWO)
    assert (await reader.ruleset_json(site_id))["version"] == 1  # cached
    clock.advance(5_000)
    assert (await reader.ruleset_json(site_id))["version"] == 2


async def test_a_fire_for_a_rule_saved_elsewhere_reloads_instead_of_refusing(
    db: Database, clock: FakeClock, site_id: int
) -> None:
    reader = TriggerService(db, None, now_ms=clock, cache_ttl_s=3600)
    writer = TriggerService(db, None, now_ms=clock)
    await save(writer, site_id, ONE)
    await reader.ruleset_json(site_id)
    await save(writer, site_id, TWO)
    status, _, _ = await fire(reader, site_id, "two", version=2)
    assert status == "sent"


async def test_unknown_and_disabled_rules_are_refused(
    service: TriggerService, site_id: int
) -> None:
    await save(
        service,
        site_id,
        "rules:\n  - {id: live, message: {text: a}}\n"
        "  - {id: paused, enabled: false, message: {text: b}}\n",
    )
    with pytest.raises(UnknownRuleError):
        await fire(service, site_id, "nope")
    with pytest.raises(UnknownRuleError):
        await fire(service, site_id, "paused")
    with pytest.raises(UnknownRuleError):
        await fire(service, site_id, "live", version=7)  # a version that does not exist


async def test_an_old_version_is_accepted_only_while_its_rule_is_unchanged(
    service: TriggerService, site_id: int
) -> None:
    await save(service, site_id, ONE)
    await save(service, site_id, TWO)  # "one" unchanged in version 2
    status, _, _ = await fire(service, site_id, "one", version=1)
    assert status == "sent"
    await save(service, site_id, "rules:\n  - {id: one, message: {text: changed}}\n")
    with pytest.raises(UnknownRuleError, match="changed after version 2"):
        await fire(service, site_id, "one", "v_bob", version=2)


async def test_single_rule_edits(service: TriggerService, site_id: int) -> None:
    await save(service, site_id, ONE)
    rule = load_rule("id: two\nmessage: {text: second}")
    assert await service.edit_ruleset(site_id, add_rule(rule), source="", author="t") == 2
    with pytest.raises(DuplicateRuleError):
        await service.edit_ruleset(site_id, add_rule(rule), source="", author="t")
    changed = load_rule("id: two\nmessage: {text: changed}")
    assert await service.edit_ruleset(site_id, replace_rule(changed), source="", author="t") == 3
    assert (await service.ruleset(site_id)).get("two") == changed
    assert await service.edit_ruleset(site_id, remove_rule("one"), source="", author="t") == 4
    with pytest.raises(UnknownRuleError):
        await service.edit_ruleset(site_id, remove_rule("one"), source="", author="t")
    with pytest.raises(UnknownRuleError):
        await service.edit_ruleset(
            site_id, replace_rule(load_rule("id: x\nmessage: {text: a}")), source="", author="t"
        )
    assert [v.version for v in await service.versions(site_id)] == [4, 3, 2, 1]
    assert [r.id for r in (await service.ruleset(site_id)).rules] == ["two"]


async def test_concurrent_edits_do_not_lose_each_other(
    service: TriggerService, site_id: int
) -> None:
    await save(service, site_id, ONE)
    rules = [load_rule(f"id: r{i}\nmessage: {{text: hi}}") for i in range(10)]
    versions = await asyncio.gather(
        *(service.edit_ruleset(site_id, add_rule(r), source="", author="t") for r in rules)
    )
    assert sorted(versions) == list(range(2, 12))
    assert len((await service.ruleset(site_id)).rules) == 11


async def test_a_save_by_another_process_is_pushed_by_the_watcher(
    db: Database, clock: FakeClock, site_id: int, other_site_id: int
) -> None:
    channels = ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True)
    command_line = TriggerService(db, None, now_ms=clock)  # like `bpract rules load`
    await save(command_line, site_id, ONE)
    async with channels:
        server = TriggerService(db, channels, now_ms=clock, cache_ttl_s=3600)
        assert await server.publish_outside_changes() == []  # baseline
        await server.ruleset_json(site_id)  # cached at version 1
        async with channels.start_subscription(f"site:{site_id}") as subscriber:
            await save(command_line, site_id, TWO)
            await save(command_line, other_site_id, ONE)
            assert sorted(await server.publish_outside_changes()) == [site_id, other_site_id]
            frame = json.loads(await asyncio.wait_for(anext(subscriber.iter_events()), 5))
            assert frame["ruleset"]["version"] == 2
            assert (await server.ruleset_json(site_id))["version"] == 2  # cache refreshed
            assert await server.publish_outside_changes() == []
            await save(server, site_id, ONE)  # its own save is pushed once, by the save
            assert await server.publish_outside_changes() == []
            versions = [json.loads(await asyncio.wait_for(anext(subscriber.iter_events()), 5))]
            assert versions[0]["ruleset"]["version"] == 3
            assert subscriber.qsize == 0


async def test_the_watcher_loop_runs_until_cancelled(
    db: Database, clock: FakeClock, site_id: int
) -> None:
    server = TriggerService(db, None, now_ms=clock, cache_ttl_s=3600)
    await server.ruleset_json(site_id)
    await server.publish_outside_changes()  # the baseline, before anything changes
    task = asyncio.create_task(server.watch_outside_changes(interval_s=0.01))
    await save(TriggerService(db, None, now_ms=clock), site_id, ONE)

    async def version() -> object:
        return (await server.ruleset_json(site_id))["version"]

    try:
        await eventually_async(version, 2.0, 0.01, equals=1)
    finally:
        task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (await server.ruleset_json(site_id))["version"] == 1
