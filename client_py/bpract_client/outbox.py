"""The outbox: seq numbering and every frame kept until the server acknowledges it."""

from __future__ import annotations

from typing import Any

from .values import as_int

__all__ = ["MAX_FRAMES", "Outbox"]

MAX_FRAMES = 1_000
# Under pressure these go first: losing a signal costs less than losing a fire or a reply.
_EXPENDABLE = frozenset({"signal", "event"})


class Outbox:
    """Frames of one stream, numbered 1, 2, 3 … and kept in order until acknowledged.

    Numbers given before the first ``welcome`` are provisional: the outbox this
    one was restored from may be older than what the server has stored (the
    previous page saved it a moment before it died), so the server's
    ``stored_seq`` decides where the frames made since then really start.
    Nothing is sent before ``welcome``, so renumbering them is safe.
    """

    def __init__(self, *, max_frames: int = MAX_FRAMES) -> None:
        self._max = max(1, max_frames)
        self._next_seq = 1
        self._frames: list[dict[str, Any]] = []
        self._unsynced_from: int | None = None  # first provisional seq, until welcome
        self._synced = False
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._frames)

    def push(self, frame: dict[str, Any]) -> dict[str, Any]:
        """Number ``frame`` and keep it; returns the numbered copy to send."""
        if len(self._frames) >= self._max:
            self._evict()
        numbered = {**frame, "seq": self._next_seq}
        if not self._synced and self._unsynced_from is None:
            self._unsynced_from = self._next_seq
        self._next_seq += 1
        self._frames.append(numbered)
        return numbered

    def _evict(self) -> None:
        victim = next((i for i, f in enumerate(self._frames) if f.get("t") in _EXPENDABLE), 0)
        del self._frames[victim]
        self.dropped += 1

    def ack(self, seqs: list[int]) -> None:
        done = set(seqs)
        self._frames = [f for f in self._frames if f["seq"] not in done]

    def on_welcome(self, stored_seq: int) -> dict[int, int]:
        """The server has everything up to ``stored_seq``: forget those, never reuse them.

        On the first welcome, provisional frames are renumbered after both
        ``stored_seq`` and the restored frames; returns ``{old seq: new seq}``.
        """
        fresh_from = self._unsynced_from if not self._synced else None
        self._synced, self._unsynced_from = True, None
        if fresh_from is None:
            self._frames = [f for f in self._frames if f["seq"] > stored_seq]
            self._next_seq = max(self._next_seq, stored_seq + 1)
            return {}
        restored = [f for f in self._frames if stored_seq < f["seq"] < fresh_from]
        fresh = [f for f in self._frames if f["seq"] >= fresh_from]
        start = max(stored_seq, restored[-1]["seq"] if restored else 0) + 1
        renumbered = {f["seq"]: start + i for i, f in enumerate(fresh)}
        self._frames = restored + [{**f, "seq": renumbered[f["seq"]]} for f in fresh]
        self._next_seq = max(start + len(fresh), stored_seq + 1)
        return {old: new for old, new in renumbered.items() if old != new}

    def pending(self) -> list[dict[str, Any]]:
        """Unacknowledged frames in seq order (what to resend after a reconnect)."""
        return list(self._frames)

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": 1,
            "next_seq": self._next_seq,
            "frames": list(self._frames),
            "unsynced_from": self._unsynced_from,
            "dropped": self.dropped,
        }

    @classmethod
    def from_dict(cls, data: Any, *, max_frames: int = MAX_FRAMES) -> Outbox:
        """Rebuild from :meth:`to_dict` output; unreadable parts start fresh."""
        box = cls(max_frames=max_frames)
        if not isinstance(data, dict):
            return box
        frames = data.get("frames")
        if isinstance(frames, list):
            box._frames = _valid_frames(frames)[-box._max :]
        last_seq = box._frames[-1]["seq"] if box._frames else 0
        box._next_seq = max(as_int(data.get("next_seq")) or 1, last_seq + 1)
        box.dropped = max(0, as_int(data.get("dropped")) or 0)
        # provisional numbers saved before a welcome stay provisional
        box._unsynced_from = as_int(data.get("unsynced_from"))
        return box


def _valid_frames(frames: list[Any]) -> list[dict[str, Any]]:
    """Objects with a type and a strictly increasing positive seq."""
    valid: list[dict[str, Any]] = []
    for frame in frames:
        if not isinstance(frame, dict) or not isinstance(frame.get("t"), str):
            continue
        seq = frame.get("seq")
        fresh = not valid or (isinstance(seq, int) and seq > valid[-1]["seq"])
        if isinstance(seq, int) and not isinstance(seq, bool) and seq > 0 and fresh:
            valid.append(frame)
    return valid
