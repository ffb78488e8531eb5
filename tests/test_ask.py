"""Answers from the phone: questions over fake Telegram and ntfy servers on real sockets, the answer tokens,
and what is ignored (another chat, a tampered or replayed token, an expired question).

The fakes answer as the services do and play the user: a Telegram button press is a callback query that
the fake hands to the next `getUpdates`; an ntfy button is the action's own HTTP request, sent to the URL
the notification names, as the phone app does.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import threading
import time

import pytest

from mcp_push import answers
from mcp_push.ask import ask, prompt_for
from mcp_push.config import Config
from mcp_push.models import Ask, AskResult
from tests.fakes import CHAT_ID, TG_TOKEN, FakeNtfy, FakeTelegram
from tests.recorder import reply

TOPIC = "builds-7f3a9c2e41d8"


@pytest.fixture
def telegram():
    fake = FakeTelegram()
    yield fake
    fake.close()


@pytest.fixture
def ntfy():
    fake = FakeNtfy()
    yield fake
    fake.close()


def tg_env(fake: FakeTelegram, **extra: str) -> dict[str, str]:
    return {"TG_BOT_TOKEN": TG_TOKEN, "TG_USER_ID": str(CHAT_ID), "TG_API_HOST": fake.url, **extra}


def ntfy_env(fake: FakeNtfy, **extra: str) -> dict[str, str]:
    return {"NTFY_TOPIC": TOPIC, "NTFY_URL": fake.url, **extra}


def asking(
    config: Config,
    question: str = "Deploy v1.4 to prod?",
    options: tuple[str, ...] = ("Deploy", "Wait"),
    timeout: float = 15,
    **kwargs,
) -> asyncio.Task[AskResult]:
    request = Ask(question=question, options=list(options), timeout_seconds=timeout)
    return asyncio.ensure_future(ask(config, prompt_for(request, config.settings), **kwargs))


async def wait_polling(fake: FakeTelegram, polls: int = 1) -> None:
    """Until the bot is being long-polled (the question's reader is up)."""
    await asyncio.to_thread(fake.wait_for, lambda: fake.polling and fake.polls >= polls)


# ---- Telegram ---------------------------------------------------------------------------------------


async def test_telegram_question_is_a_keyboard_and_a_press_is_the_answer(telegram, make_config):
    config = make_config(**tg_env(telegram))
    task = asking(config)
    message = await asyncio.to_thread(telegram.wait_question)
    assert message["chat_id"] == str(CHAT_ID)
    assert message["text"] == "❓ Deploy v1.4 to prod?\n\nDeploy · Wait"
    (row,) = message["reply_markup"]["inline_keyboard"]
    assert [b["text"] for b in row] == ["Deploy", "Wait"]
    tokens = [b["callback_data"] for b in row]
    assert len(set(tokens)) == 2 and all(len(t.encode()) <= 64 for t in tokens)  # Telegram's callback_data limit

    await wait_polling(telegram)
    press = telegram.tap("Deploy")
    result = await task
    assert result.answered and result.answer == "Deploy" and result.channel == "telegram"
    assert result.reason is None and 0 <= result.elapsed_s < 15
    assert result.summary.startswith("Answered “Deploy” from Telegram after ")
    assert await asyncio.to_thread(telegram.ack_for, press) == "✅ Deploy"  # the button stops spinning

    (edit,) = telegram.edits
    assert edit["message_id"] == message["message_id"] and edit["chat_id"] == str(CHAT_ID)
    assert "reply_markup" not in edit  # the buttons are gone
    head, outcome, body = edit["text"].split("\n\n")
    assert head == "❓ Deploy v1.4 to prod?" and body == "Deploy · Wait"
    assert outcome.startswith("✅ Answered “Deploy” from Telegram at ") and outcome[-5:-2].endswith(":")
    assert telegram.offsets[0] is None and all(o is not None for o in telegram.offsets[1:])

    (entry,) = config.store.history(limit=1)
    question = entry["question"]
    assert entry["title"] == "❓ Deploy v1.4 to prod?" and entry["source"] == "cli"
    assert question["status"] == "answered" and question["answer"] == "Deploy" and question["channel"] == "telegram"
    assert question["sender"] == f"user {CHAT_ID} (@dev_user) in chat {CHAT_ID}"
    assert [a["channel"] for a in entry["attempts"]] == ["telegram"] and entry["pending"] == []


async def test_no_answer_in_time_is_a_timeout_and_the_message_says_so(telegram, make_config):
    config = make_config(**tg_env(telegram))
    started = time.monotonic()
    result = await asking(config, timeout=1.5)
    waited = time.monotonic() - started
    assert not result.answered and result.reason == "timeout" and result.answer is None
    assert 1.4 <= waited < 1.5 + 3 + 1  # the wait, then at most the bounded update of the messages
    assert result.summary == "No answer within 1.5 s."
    (edit,) = telegram.edits
    assert edit["text"] == "❓ Deploy v1.4 to prod?\n\n⌛ No answer in time\n\nDeploy · Wait"
    assert config.store.history(limit=1)[0]["question"]["status"] == "expired"


async def test_the_wait_ends_at_the_timeout_even_when_sending_hangs(telegram, make_config, recorder):
    """A channel that never answers cannot hold a question past its timeout."""
    recorder.respond(reply(200, {"ok": True}, delay=5))
    config = make_config(**tg_env(telegram), WEBHOOK_URL=recorder.url, MCP_PUSH_TIMEOUT="30")
    started = time.monotonic()
    result = await asking(config, timeout=1)
    assert time.monotonic() - started < 1 + 3 + 1
    assert result.reason == "timeout"
    assert {r.name: r.ok for r in result.results} == {"telegram": True, "webhook": False}


async def test_an_answer_from_another_chat_is_ignored(telegram, make_config, caplog):
    caplog.set_level(logging.INFO, logger="mcp_push")
    config = make_config(**tg_env(telegram))
    task = asking(config)
    await asyncio.to_thread(telegram.wait_question)
    await wait_polling(telegram)
    stranger = telegram.tap("Deploy", chat_id=555, user_id=555)
    assert (
        await asyncio.to_thread(telegram.ack_for, stranger)
        == "Not accepted: answers are taken only from the configured chat"
    )
    assert not task.done()
    telegram.tap("Wait")
    result = await task
    assert result.answer == "Wait"
    (ignored,) = [r for r in caplog.records if "ignored an answer" in r.getMessage()]
    assert ignored.levelno == logging.WARNING and "user 555 (@dev_user) in chat 555" in ignored.getMessage()
    assert stranger["callback_query"]["data"] not in caplog.text  # the token shows cut short


@pytest.mark.parametrize("tamper", ["choice", "signature", "garbage", "unknown question"])
async def test_a_tampered_token_is_ignored(telegram, make_config, tamper):
    config = make_config(**tg_env(telegram))
    task = asking(config)
    message = await asyncio.to_thread(telegram.wait_question)
    deploy = message["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    qid, _, mac = deploy.split(".")
    forged = {
        "choice": f"{qid}.1.{mac}",  # Deploy's signature on Wait
        "signature": f"{qid}.0.{'A' if mac[0] != 'A' else 'B'}{mac[1:]}",
        "garbage": "rm -rf / ; DROP TABLE questions",
        "unknown question": f"{'x' * 16}.0.{mac}",
    }[tamper]
    await wait_polling(telegram)
    press = telegram.tap("Deploy", data=forged)
    assert (await asyncio.to_thread(telegram.ack_for, press)).startswith("Not accepted")
    await asyncio.sleep(0.3)
    assert not task.done()  # an ignored answer does not end the wait
    telegram.tap("Deploy")
    assert (await task).answer == "Deploy"


async def test_a_replayed_token_is_ignored(telegram, make_config):
    config = make_config(**tg_env(telegram))
    first = asking(config)
    message = await asyncio.to_thread(telegram.wait_question)
    deploy = message["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await wait_polling(telegram)
    telegram.tap("Deploy")
    assert (await first).answer == "Deploy"

    polls = telegram.polls
    second = asking(config, "Roll back v1.3?", ("Roll back", "Keep"))
    await asyncio.to_thread(telegram.wait_question, 2)
    await wait_polling(telegram, polls + 1)
    again = telegram.tap("Deploy", message, data=deploy)  # the first question's press, sent once more
    assert await asyncio.to_thread(telegram.ack_for, again) == "Already answered: Deploy"
    onto_second = telegram.tap("Roll back", telegram.question(1), data=deploy)  # ... or onto the second question
    assert await asyncio.to_thread(telegram.ack_for, onto_second) == "Already answered: Deploy"
    await asyncio.sleep(0.3)
    assert not second.done()
    telegram.tap("Keep", telegram.question(1))
    assert (await second).answer == "Keep"
    assert config.store.history(limit=2)[1]["question"]["answer"] == "Deploy"


async def test_an_expired_question_takes_no_answer(telegram, make_config):
    config = make_config(**tg_env(telegram))
    result = await asking(config, timeout=1)
    assert result.reason == "timeout"
    # A later question's reader still sees the late press of the first one, and refuses it.
    polls = telegram.polls
    later = asking(config, "Another?", ("A", "B"))
    await asyncio.to_thread(telegram.wait_question, 2)
    await wait_polling(telegram, polls + 1)
    late = telegram.tap("Deploy", telegram.question(0))
    assert await asyncio.to_thread(telegram.ack_for, late) == "Not accepted: this question has expired"
    telegram.tap("B", telegram.question(1))
    assert (await later).answer == "B"
    assert config.store.history(limit=2)[1]["question"]["status"] == "expired"


async def test_two_questions_at_once_answered_in_reverse_order_each_get_their_own(telegram, make_config, tmp_path):
    """Two agent sessions asking through one bot: two configurations (two stores on one state dir, as two
    processes have), one getUpdates at a time between them, each answer to its own question."""
    early, late = make_config(**tg_env(telegram)), make_config(**tg_env(telegram))
    assert early.store is not late.store and early.store.path == late.store.path
    first = asking(early, "Deploy v1.4 to prod?", ("Deploy", "Wait"))
    await asyncio.to_thread(telegram.wait_question)
    await wait_polling(telegram)  # the first asker reads the bot
    second = asking(late, "Run the migration?", ("Migrate", "Skip"))
    await asyncio.to_thread(telegram.wait_question, 2)
    await asyncio.sleep(0.5)  # the second asker finds the source taken and waits its turn

    telegram.tap("Skip", telegram.question(1))  # answered in reverse order
    assert (await second).answer == "Skip"
    await asyncio.sleep(0.3)
    assert not first.done()
    telegram.tap("Deploy", telegram.question(0))
    assert (await first).answer == "Deploy"
    assert telegram.conflicts == 0  # never two getUpdates at once
    assert sorted(e["message_id"] for e in telegram.edits) == [telegram.question(0)["message_id"],
                                                                telegram.question(1)["message_id"]]  # fmt: skip


async def test_the_next_asker_takes_over_reading_the_bot(telegram, make_config):
    """The process reading the bot finishes first: the one still waiting reads on, from the stored offset."""
    reader, other = make_config(**tg_env(telegram)), make_config(**tg_env(telegram))
    first = asking(reader, "First?", ("A", "B"))
    await asyncio.to_thread(telegram.wait_question)
    await wait_polling(telegram)
    second = asking(other, "Second?", ("C", "D"))
    await asyncio.to_thread(telegram.wait_question, 2)
    telegram.tap("A", telegram.question(0))
    assert (await first).answer == "A"
    offset = telegram.offsets[-1]
    telegram.tap("D", telegram.question(1))
    assert (await second).answer == "D"
    assert telegram.offsets[-1] is not None and telegram.offsets[-1] >= (offset or 0)


async def test_a_bot_with_a_webhook_is_a_clear_problem(telegram, make_config):
    telegram.webhook = True
    config = make_config(**tg_env(telegram))
    started = time.monotonic()
    result = await asking(config, timeout=30)
    assert time.monotonic() - started < 10  # nobody can answer: no point waiting out the timeout
    assert not result.answered and result.reason == "no_reply_channel"
    assert "webhook" in result.problems["telegram"] and "deleteWebhook" in result.problems["telegram"]
    assert TG_TOKEN not in result.model_dump_json()


async def test_a_press_read_twice_is_taken_once(telegram, make_config, caplog):
    """A reader that stopped before storing its cursor: the next one reads the same press again."""
    from channels.base import Reply

    caplog.set_level(logging.INFO, logger="mcp_push")
    config = make_config(**tg_env(telegram))
    task = asking(config)
    await asyncio.to_thread(telegram.wait_question)
    await wait_polling(telegram)
    press = telegram.tap("Deploy")
    assert (await task).answer == "Deploy"
    collector = answers.Collector(config.store, answers.load_key(config.settings.state_dir))
    again = Reply(press["callback_query"]["data"], frozenset({str(CHAT_ID)}), sender="the same press")
    await collector.take("telegram", again)
    assert config.store.history(limit=1)[0]["question"]["answer"] == "Deploy"
    (seen,) = [r for r in caplog.records if "the same press" in r.getMessage()]
    assert seen.levelno == logging.INFO and "already answered" in seen.getMessage()


# ---- ntfy -------------------------------------------------------------------------------------------


async def test_ntfy_question_has_http_actions_to_a_reply_topic(ntfy, make_config, tmp_path):
    config = make_config(**ntfy_env(ntfy))
    task = asking(config)
    message = await asyncio.to_thread(ntfy.wait_question)
    assert message["topic"] == TOPIC and message["title"] == "❓ Deploy v1.4 to prod?"
    assert message["message"] == "Deploy · Wait"
    deploy, wait = message["actions"]
    suffix = (tmp_path / "state" / "channels" / "ntfy-reply-suffix").read_text()
    assert stat.S_IMODE(os.stat(tmp_path / "state" / "channels" / "ntfy-reply-suffix").st_mode) == 0o600
    reply_url = f"{ntfy.url}/{TOPIC}-reply-{suffix}"
    for action, label in ((deploy, "Deploy"), (wait, "Wait")):
        assert action["action"] == "http" and action["label"] == label and action["url"] == reply_url
        assert action["method"] == "POST" and action["clear"] is True and "headers" not in action
    assert deploy["body"] != wait["body"]

    await asyncio.to_thread(ntfy.wait_for, lambda: ntfy.subscribers)
    assert ntfy.tap("Deploy") == 200
    result = await task
    assert result.answered and result.answer == "Deploy" and result.channel == "ntfy"
    since = ntfy.subscriptions[0]["since"][0]
    assert since.isdigit() and abs(int(since) - time.time()) < 30  # from the time the wait began
    (update,) = ntfy.replaced
    assert update["topic"] == TOPIC and update["sequence_id"] == message["id"] and update["priority"] == "2"
    assert update["message"].startswith("✅ Answered “Deploy” from ntfy at ")


async def test_ntfy_with_a_token_and_its_own_reply_topic(make_config):
    fake = FakeNtfy(token="tk_0123456789abcdefghijklmnopqrs")
    try:
        config = make_config(**ntfy_env(fake, NTFY_TOKEN=fake.token, NTFY_REPLY_TOPIC="answers-3c9d1e"))
        task = asking(config)
        message = await asyncio.to_thread(fake.wait_question)
        action = message["actions"][1]
        assert action["url"] == f"{fake.url}/answers-3c9d1e"
        assert action["headers"] == {"Authorization": f"Bearer {fake.token}"}  # the phone posts with it
        await asyncio.to_thread(fake.wait_for, lambda: fake.subscribers)
        assert fake.tap("Wait") == 200
        assert (await task).answer == "Wait"
        assert fake.token not in (await task).model_dump_json()
    finally:
        fake.close()


async def test_ntfy_server_without_updates_only_logs(make_config, caplog):
    caplog.set_level(logging.INFO, logger="mcp_push")
    fake = FakeNtfy(updates=False)  # before ntfy 2.16
    try:
        config = make_config(**ntfy_env(fake))
        task = asking(config)
        await asyncio.to_thread(fake.wait_question)
        await asyncio.to_thread(fake.wait_for, lambda: fake.subscribers)
        fake.tap("Deploy")
        assert (await task).answer == "Deploy"
        assert "ntfy: could not show the outcome" in caplog.text
    finally:
        fake.close()


async def test_ntfy_replays_what_arrived_while_connecting(ntfy, make_config):
    """An answer published before the subscription is up is served by `since=`."""
    config = make_config(**ntfy_env(ntfy))
    channel = config.channels["ntfy"]
    before = time.time() - 1
    ntfy.publish(channel.reply_topic, "some-token")
    replies, cursor = await channel.replies(None, before, 2)
    assert [r.token for r in replies] == ["some-token"] and cursor == ntfy.on(channel.reply_topic)[0]["id"]
    assert replies[0].origins == {channel.reply_topic}
    nothing, same = await channel.replies(cursor, before, 1)
    assert nothing == [] and same == cursor


async def test_ntfy_refusing_the_subscription_is_a_problem(make_config):
    fake = FakeNtfy(token="tk_right_token_0123456789abcdef")
    try:
        config = make_config(**ntfy_env(fake, NTFY_TOKEN="tk_wrong_token_0123456789abcdef"))
        result = await asking(config, timeout=20)
        assert result.reason == "not_delivered"  # the question itself was refused too
        assert "tk_wrong_token" not in result.model_dump_json()
    finally:
        fake.close()


# ---- several channels -------------------------------------------------------------------------------


async def test_other_channels_say_where_to_answer(telegram, ntfy, recorder, make_config):
    recorder.respond(reply(200, {"ok": True}))
    config = make_config(**tg_env(telegram), **ntfy_env(ntfy), WEBHOOK_URL=recorder.url)
    task = asking(config)
    await asyncio.to_thread(telegram.wait_question)
    await asyncio.to_thread(ntfy.wait_question)
    await asyncio.to_thread(recorder_wait, recorder)
    body = recorder.last.json()
    assert body["title"] == "❓ Deploy v1.4 to prod?"
    assert body["content"] == "Deploy · Wait\n\nAnswer in Telegram or ntfy: Deploy / Wait."
    await wait_polling(telegram)
    await asyncio.to_thread(ntfy.wait_for, lambda: ntfy.subscribers)
    telegram.tap("Wait")
    result = await task
    assert result.answer == "Wait" and result.channel == "telegram"
    # The first answer wins, and every question message shows it.
    assert telegram.edits[0]["text"].split("\n\n")[1].startswith("✅ Answered “Wait” from Telegram at ")
    assert ntfy.replaced[0]["message"].startswith("✅ Answered “Wait” from Telegram at ")
    assert ntfy.tap("Deploy") == 200  # a late tap on the phone changes nothing
    await asyncio.sleep(0.2)
    assert config.store.history(limit=1)[0]["question"]["answer"] == "Wait"


def recorder_wait(recorder, timeout: float = 10) -> None:
    end = time.monotonic() + timeout
    while not recorder.requests:
        assert time.monotonic() < end, "the recorder received no request"
        time.sleep(0.02)


async def test_four_choices_go_as_text_where_the_service_shows_three_buttons(telegram, ntfy, make_config):
    config = make_config(**tg_env(telegram), **ntfy_env(ntfy))
    task = asking(config, "Which region?", ("eu-west", "us-east", "ap-south", "none"))
    message = await asyncio.to_thread(telegram.wait_question)
    assert [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row] == [
        "eu-west", "us-east", "ap-south", "none"
    ]  # fmt: skip
    await asyncio.to_thread(ntfy.wait_for, lambda: ntfy.on(TOPIC))
    (plain,) = ntfy.on(TOPIC)
    assert "actions" not in plain
    assert plain["message"].endswith("Answer in Telegram: eu-west / us-east / ap-south / none.")
    await wait_polling(telegram)
    telegram.tap("none")
    assert (await task).answer == "none"


async def test_a_broken_channel_does_not_stop_the_others(telegram, ntfy, make_config):
    config = make_config(**tg_env(telegram, TG_BOT_TOKEN="999:wrong-token-0123456789"), **ntfy_env(ntfy))
    task = asking(config)
    await asyncio.to_thread(ntfy.wait_question)
    await asyncio.to_thread(ntfy.wait_for, lambda: ntfy.subscribers)
    ntfy.tap("Deploy")
    result = await task
    assert result.answer == "Deploy" and result.channel == "ntfy"
    failed = {r.name: r.error for r in result.results if not r.ok}
    assert set(failed) == {"telegram"} and "Unauthorized" in failed["telegram"]
    assert "wrong-token" not in result.model_dump_json()


async def test_no_channel_that_can_answer(recorder, make_config):
    recorder.respond(reply(200, {"ok": True}))
    config = make_config(WEBHOOK_URL=recorder.url)
    result = await asking(config, fallback=False)
    assert result.reason == "no_reply_channel" and recorder.requests == []
    assert "Telegram or ntfy can" in result.summary
    # With the fallback, the question still reaches the user, saying where to answer.
    result = await asking(config)
    assert result.reason == "no_reply_channel" and result.elapsed_s < 5
    assert recorder.last.json()["content"] == "Deploy · Wait\n\nAnswer where your agent runs."
    assert config.store.history(limit=1)[0]["question"]["status"] == "undelivered"


async def test_a_cancelled_question_is_withdrawn(telegram, make_config):
    config = make_config(**tg_env(telegram))
    task = asking(config)
    await asyncio.to_thread(telegram.wait_question)
    await wait_polling(telegram)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.to_thread(telegram.wait_for, lambda: telegram.edits)
    assert "✖ Withdrawn" in telegram.edits[0]["text"]
    assert config.store.history(limit=1)[0]["question"]["status"] == "cancelled"
    await asyncio.to_thread(telegram.wait_for, lambda: not telegram.polling)  # its reader stopped too


async def test_unknown_channel_names_are_a_usage_error(make_config):
    from mcp_push.dispatch import UsageError

    with pytest.raises(UsageError, match="unknown channel 'pager'"):
        await asking(make_config(), channels=["pager"])


# ---- tokens -----------------------------------------------------------------------------------------


def test_tokens_are_bound_to_question_choice_and_expiry(tmp_path):
    key = answers.load_key(tmp_path)
    token = answers.sign(key, "q" * 16, 1, "Deny", 1_800_000_000)
    assert answers.TOKEN.fullmatch(token) and len(token) == 41
    assert token == answers.sign(key, "q" * 16, 1, "Deny", 1_800_000_000)
    others = [
        answers.sign(key, "r" * 16, 1, "Deny", 1_800_000_000),
        answers.sign(key, "q" * 16, 0, "Deny", 1_800_000_000),
        answers.sign(key, "q" * 16, 1, "Allow", 1_800_000_000),
        answers.sign(key, "q" * 16, 1, "Deny", 1_800_000_001),
        answers.sign(os.urandom(32), "q" * 16, 1, "Deny", 1_800_000_000),
    ]
    assert len({t.split(".")[2] for t in [token, *others]}) == 6


def test_the_key_is_private_and_made_once(tmp_path):
    keys: list[bytes] = []
    threads = [threading.Thread(target=lambda: keys.append(answers.load_key(tmp_path / "state"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1 and len(keys[0]) == 32
    path = tmp_path / "state" / answers.KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [answers.KEY_FILE]  # no draft left behind
    path.write_bytes(b"short")
    with pytest.raises(RuntimeError, match="not a 32-byte key"):
        answers.load_key(tmp_path / "state")


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        (["Only"], "at least 2"),
        (["a", "b", "c", "d", "e"], "at most 4"),
        (["Yes", "yes"], "must differ"),
        (["Yes", " "], "must not be empty"),
        (["Yes", "two\nlines"], "must be one line"),
        (["Yes", "x" * 41], "at most 40"),
    ],
)
def test_bad_options_are_refused(options, problem):
    from pydantic import ValidationError

    from mcp_push.models import explain

    with pytest.raises(ValidationError) as caught:
        Ask(question="Q?", options=options)
    assert problem in explain(caught.value)
