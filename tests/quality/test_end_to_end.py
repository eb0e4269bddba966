"""A real chat answer through the visitor WebSocket is grounded, rated, sampled and judged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from chat.conftest import Sites, chat_db, chat_sites, help_template, open_chat, rows, start_server
from support.eventually import eventually_async
from support.sites import make_token

__all__ = ["chat_db", "chat_sites", "help_template"]  # the chat's fixtures, used here


async def grounded(db: Path, reply: str, within: float = 60.0) -> tuple[float, str]:
    def scored() -> list[tuple[Any, ...]]:
        found = rows(
            db, "SELECT grounding, grounding_method FROM chat_messages WHERE id = ?", reply
        )
        return found if found and found[0][0] is not None else []

    [(score, method)] = await eventually_async(scored, within, 0.2, what=f"{reply} grounded")
    return float(score), str(method)


async def test_answer_to_verdict(chat_db: Path, chat_sites: Sites) -> None:
    token = make_token(chat_db, "reviewer")
    server = start_server(chat_db, {"BPRACT_GROUNDING": "offline"})
    try:
        client, _ = await open_chat(server, chat_sites.help)
        try:
            answer = (await client.ask("How long can I pause my membership for?")).end
            off_topic = (await client.ask("Who won the 1998 football world cup?")).end
            await client.send({"t": "rate", "seq": 50, "at": 1, "reply": answer["id"],
                               "rating": "down", "comment": "too short"})  # fmt: skip
            await client.recv_until("ack")
        finally:
            await client.close()
        assert answer["kind"] == "answer" and off_topic["kind"] == "unknown"
        score, method = await grounded(chat_db, answer["id"])
        assert method == "offline:overlap+minilm:all-MiniLM-L6-v2"
        assert score >= 0.75  # an extractive answer quotes its passages
        api = f"{server.url}/api/sites/{chat_sites.help.public_key}/quality"
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(headers=auth, timeout=10) as http:
            drawn = (await http.post(f"{api}/reviews/sample")).json()
            [item] = [i for i in drawn["items"] if i["message_id"] == answer["id"]]
            assert all(i["message_id"] != off_topic["id"] for i in drawn["items"])
            assert item["question"] == "How long can I pause my membership for?"
            assert item["rating"] == "down" and "thumbs_down" in item["reasons"]
            assert item["passages"] and item["grounding"] == score
            put = await http.put(f"{api}/reviews/{answer['id']}",
                                 json={"verdict": "grounded", "reviewer": "ana"})  # fmt: skip
            assert put.status_code == 200
            report = (await http.get(f"{api}/hallucination?weeks=1")).json()
            other_api = api.replace(chat_sites.help.public_key, chat_sites.other.public_key)
            await http.post(f"{other_api}/reviews/sample")
            other = (await http.get(f"{other_api}/reviews")).json()
        assert report["weeks"][0]["reviewed"] >= 1 and report["weeks"][0]["thumbs_down"] >= 1
        assert other == []  # the other tenant's sample never holds this site's answers
    finally:
        server.stop()
