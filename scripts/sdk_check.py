#!/usr/bin/env python3
"""Checks claude-lb with the official `anthropic` Python SDK (not run by CI).

Run it by hand against two running `claude-lb serve` instances, one in front of
Anthropic-type mocks and one in front of an OpenAI-type mock:

    python3 -m venv /tmp/sdk && /tmp/sdk/bin/pip install anthropic
    cargo build
    B=target/debug/claude-lb
    $B mock --type anthropic --listen 127.0.0.1:19101 --fail-rate 1 &   # always fails
    $B mock --type anthropic --listen 127.0.0.1:19102 &
    $B mock --type openai    --listen 127.0.0.1:19103 &
    # a.yaml: providers `flaky` (http://127.0.0.1:19101) then `good` (http://127.0.0.1:19102),
    #         both type anthropic
    # o.yaml: provider `oai`, type openai, base_url http://127.0.0.1:19103/v1
    CLAUDE_LB_LOG=debug $B serve --config a.yaml --listen 127.0.0.1:19201 > sa.log 2>&1 &
    CLAUDE_LB_LOG=debug $B serve --config o.yaml --listen 127.0.0.1:19202 > so.log 2>&1 &
    /tmp/sdk/bin/python scripts/sdk_check.py http://127.0.0.1:19201 http://127.0.0.1:19202

Each base URL gets: a plain call and a stream, a tool call (non-streaming and
streaming) whose `tool_use` block must parse with a dict input, the tool_result
turn that must come back as text, and `count_tokens`. Every failed check is
printed; the exit status is the number of failures. Then read the `ok` lines in
the serve logs: on the Anthropic-type pool, `failed_attempts` names `flaky`.
"""

import sys

import anthropic

MODEL = "claude-opus-5-5"
TOOL = {
    "name": "get_weather",
    "description": "Get the weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city", "days"],
    },
}
FAILURES = []


def check(label, condition, detail=""):
    print(("ok   " if condition else "FAIL ") + label + (f": {detail}" if detail else ""))
    if not condition:
        FAILURES.append(label)


def check_text(label, message):
    texts = [b.text for b in message.content if b.type == "text"]
    check(
        label,
        message.type == "message" and message.role == "assistant" and texts and texts[0],
        f"stop_reason={message.stop_reason} text={texts[:1]!r} usage={message.usage}",
    )


def check_tool_call(label, message):
    uses = [b for b in message.content if b.type == "tool_use"]
    ok = (
        message.stop_reason == "tool_use"
        and len(uses) == 1
        and uses[0].name == TOOL["name"]
        and isinstance(uses[0].input, dict)
        and isinstance(uses[0].input.get("city"), str)
        and isinstance(uses[0].input.get("days"), int)
        and uses[0].id
    )
    detail = f"stop_reason={message.stop_reason} blocks={[b.type for b in message.content]}"
    if uses:
        detail += f" tool_use={uses[0].name}({uses[0].input!r}) id={uses[0].id}"
    check(label, ok, detail)
    return uses[0] if uses else None


def run(base_url, kind):
    print(f"== {kind} pool at {base_url}")
    client = anthropic.Anthropic(base_url=base_url, api_key="dummy", max_retries=0)
    ask = [{"role": "user", "content": "say hi"}]

    raw = client.messages.with_raw_response.create(model=MODEL, max_tokens=64, messages=ask)
    print(f"     served by {raw.headers.get('x-claude-lb-provider')}, "
          f"request id {raw.headers.get('x-claude-lb-request-id')} (grep the serve log for it)")
    check_text(f"{kind} create", raw.parse())
    with client.messages.stream(model=MODEL, max_tokens=64, messages=ask) as stream:
        events = [e.type for e in stream]
        final = stream.get_final_message()
    check_text(f"{kind} stream", final)
    check(f"{kind} stream events", events[0] == "message_start" and events[-1] == "message_stop",
          f"{events[0]} .. {events[-1]} ({len(events)} events)")

    weather = [{"role": "user", "content": "What is the weather in Paris?"}]
    tool_msg = client.messages.create(
        model=MODEL, max_tokens=256, messages=weather, tools=[TOOL])
    use = check_tool_call(f"{kind} create tool_use", tool_msg)
    with client.messages.stream(
            model=MODEL, max_tokens=256, messages=weather, tools=[TOOL]) as stream:
        partial_json = [e for e in stream if e.type == "input_json"]
        streamed = stream.get_final_message()
    check_tool_call(f"{kind} stream tool_use", streamed)
    check(f"{kind} stream input_json events", len(partial_json) > 0, f"{len(partial_json)} events")

    if use is not None:
        follow = weather + [
            {"role": "assistant", "content": [b.model_dump() for b in tool_msg.content]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": use.id, "content": "sunny, 21 C"}]},
        ]
        check_text(f"{kind} create after tool_result", client.messages.create(
            model=MODEL, max_tokens=256, messages=follow, tools=[TOOL]))
        with client.messages.stream(
                model=MODEL, max_tokens=256, messages=follow, tools=[TOOL]) as stream:
            check_text(f"{kind} stream after tool_result", stream.get_final_message())

    raw = client.messages.with_raw_response.count_tokens(
        model=MODEL, messages=weather, tools=[TOOL])
    count = raw.parse()
    check(f"{kind} count_tokens", isinstance(count.input_tokens, int) and count.input_tokens > 0,
          f"input_tokens={count.input_tokens} estimate={raw.headers.get('x-claude-lb-estimate')}")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: sdk_check.py ANTHROPIC_POOL_URL OPENAI_POOL_URL")
    for base_url, kind in zip(sys.argv[1:], ["anthropic", "openai"]):
        try:
            run(base_url, kind)
        except anthropic.APIError as error:
            check(f"{kind} run", False, f"{type(error).__name__}: {error}")
    print(f"{len(FAILURES)} failure(s)" + (f": {FAILURES}" if FAILURES else ""))
    sys.exit(len(FAILURES))


if __name__ == "__main__":
    main()
