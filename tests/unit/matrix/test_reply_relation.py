"""reply_relation: a plain reply in the main timeline, a thread event with a reply fallback inside a thread."""

from adapters.matrix.event_mapping import reply_target, thread_root
from adapters.matrix.sender import reply_relation
from domain.model.ids import EventId


def test_an_unthreaded_reply_is_only_in_reply_to() -> None:
    assert reply_relation(EventId("$q"), None) == {"m.in_reply_to": {"event_id": "$q"}}


def test_a_threaded_reply_names_the_root_and_keeps_the_reply_fallback() -> None:
    relation = reply_relation(EventId("$q"), EventId("$root"))
    source = {"content": {"m.relates_to": relation}}
    assert relation["rel_type"] == "m.thread" and relation["is_falling_back"] is True
    # Both readers of our own replies still find what they need: the question answered, and the thread.
    assert reply_target(source) == "$q" and thread_root(source) == "$root"
