from __future__ import annotations

from bot.core.prepare.fold import fold_log
from bot.core.prepare.traces import split_traces

PY = """2024-05-01T10:00:00Z ERROR worker: job 7 crashed
Traceback (most recent call last):
  File "/app/main.py", line 88, in run
    self.handle(job)
  File "/app/main.py", line 120, in handle
    result = self.charge(job.order)
  File "/app/billing.py", line 41, in charge
    customer = self.customers[order.customer_id]
                ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/app/cache.py", line 17, in __getitem__
    return self._data[key]
  File "/app/cache.py", line 30, in _load
    raise KeyError(key)
KeyError: 'cust_42'
2024-05-01T10:00:01Z INFO worker: next job"""

JAVA = """2024-05-01T10:00:00Z ERROR [exec-1] Checkout - request failed
java.lang.IllegalStateException: Connection pool exhausted
\tat com.shop.db.Pool.acquire(Pool.java:142)
\tat com.shop.db.OrderRepo.save(OrderRepo.java:57)
\tat com.shop.api.Checkout.checkout(Checkout.java:91)
\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:883)
\tat java.base/java.lang.Thread.run(Thread.java:833)
Caused by: java.net.SocketTimeoutException: connect timed out
\tat java.net.Socket.connect(Socket.java:601)
\t... 5 more
2024-05-01T10:00:01Z INFO next"""

GO = """panic: runtime error: invalid memory address or nil pointer dereference

goroutine 1 [running]:
main.(*Server).handle(0x0)
\t/app/server.go:42 +0x1d
main.route()
\t/app/route.go:10 +0x25
main.serve()
\t/app/serve.go:7 +0x25
main.main()
\t/app/main.go:3 +0x25
exit status 2"""

NODE = """TypeError: Cannot read properties of undefined (reading 'id')
    at handler (/app/src/handler.js:10:5)
    at Layer.handle (/app/node_modules/express/lib/router/layer.js:95:5)
    at next (/app/node_modules/express/lib/router/route.js:149:13)
    at Route.dispatch (/app/node_modules/express/lib/router/route.js:119:3)"""


def test_python_trace_keeps_exception_and_frames_nearest_the_raise() -> None:
    chunks = list(split_traces(PY.splitlines()))
    assert [c.trace for c in chunks] == [False, True, False]
    trace = chunks[1]
    assert trace.text.splitlines() == [
        "Traceback (most recent call last):",
        "  … 2 more frames",
        '  File "/app/billing.py", line 41, in charge',
        "    customer = self.customers[order.customer_id]",
        '  File "/app/cache.py", line 17, in __getitem__',
        "    return self._data[key]",
        '  File "/app/cache.py", line 30, in _load',
        "    raise KeyError(key)",
        "KeyError: 'cust_42'",
    ]
    # The trace carries the time of the log line that printed it.
    assert trace.ts == "2024-05-01T10:00:00Z"


def test_java_trace_keeps_exception_top_frames_and_cause() -> None:
    chunks = list(split_traces(JAVA.splitlines()))
    assert [c.trace for c in chunks] == [False, True, True, False]
    assert chunks[1].text.splitlines() == [
        "java.lang.IllegalStateException: Connection pool exhausted",
        "\tat com.shop.db.Pool.acquire(Pool.java:142)",
        "\tat com.shop.db.OrderRepo.save(OrderRepo.java:57)",
        "\tat com.shop.api.Checkout.checkout(Checkout.java:91)",
        "\t… 2 more frames",
    ]
    assert chunks[2].text.splitlines() == [
        "Caused by: java.net.SocketTimeoutException: connect timed out",
        "\tat java.net.Socket.connect(Socket.java:601)",
        "\t… 5 more frames",
    ]


def test_go_and_node_traces_are_cut_to_three_frames() -> None:
    go = [c for c in split_traces(GO.splitlines()) if c.trace]
    assert len(go) == 1
    assert go[0].text.splitlines()[-1] == "\t… 1 more frame"
    assert "main.main()" not in go[0].text and "/app/server.go:42" in go[0].text
    node = list(split_traces(NODE.splitlines()))
    assert len(node) == 1 and node[0].trace
    assert node[0].text.splitlines()[0].startswith("TypeError: Cannot read properties")
    assert node[0].text.splitlines()[-1] == "    … 1 more frame"
    assert "Route.dispatch" not in node[0].text


def test_short_trace_gets_no_marker() -> None:
    text = "ValueError: bad\n    at a (x.js:1:1)"
    (chunk,) = split_traces(text.splitlines())
    assert chunk.text == text


def test_repeated_identical_traces_fold_with_a_count() -> None:
    log = []
    for i in range(40):
        log.append(PY.replace("10:00:00Z", f"10:{i:02d}:00Z").replace("job 7", f"job {i}").replace("cust_42", f"cust_{i}"))
    folded, templates = fold_log("\n".join(log))
    traces = [f for f in folded if f.trace]
    assert len(traces) == 1
    assert traces[0].count == 40
    assert traces[0].line.startswith("[×40, 2024-05-01T10:00:00Z … 10:39:00Z] Traceback (most recent call last):")
    # The part that differed is shown as a placeholder, the rest as written.
    assert traces[0].line.endswith("KeyError: 'cust_<*>'")
    assert templates >= 2  # the trace and the "job <*> crashed" line
