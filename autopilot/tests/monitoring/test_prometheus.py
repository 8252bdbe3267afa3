"""Prometheus targets against a real Prometheus scraping a real instrumented app and a real node_exporter."""

import pytest

from autopilot.monitoring import prometheus_api
from autopilot.monitoring.prometheus_api import DEFAULT_QUERIES, PrometheusSpec, parse_answer, render
from autopilot.testing import prometheus
from autopilot.testing.instrumented_app import InstrumentedApp
from autopilot.testing.probe_targets import closed_port_url

WINDOW = "10s"  # the rate window for a 1 s scrape interval


@pytest.fixture(scope="module")
def stack():
    absent = prometheus.missing()
    if absent:
        pytest.skip(f"{', '.join(absent)} not installed: {prometheus.INSTALL_HINT}")
    app = InstrumentedApp().start()
    node = prometheus.NodeExporter().start()
    feed = prometheus.HostFeed(node.textfiles).start()
    server = prometheus.PrometheusServer({"shop": app.address, "node": node.address}).start()
    app.start_traffic()
    try:
        server.wait_scraped("shop")
        server.wait_scraped("node")
        yield app, feed, server
    finally:
        app.stop()
        feed.stop()
        server.stop()
        node.stop()


def spec(server, selector, *names, **kwargs):
    queries = tuple((name, render(DEFAULT_QUERIES[name], selector, WINDOW)) for name in names)
    return PrometheusSpec(url=server.url, queries=queries, timeout=5.0, **kwargs)


def wait_for_value(server, name, selector, predicate):
    query = render(DEFAULT_QUERIES[name], selector, WINDOW)
    return prometheus.wait_until(
        lambda: (value := server.value(query)) is not None and predicate(value), 90, 0.5, f"{name} in Prometheus"
    )


def test_error_ratio_and_p95_latency_of_the_app(stack):
    app, _feed, server = stack
    app.error_share, app.latency = 0.2, 2.2
    wait_for_value(server, "error_ratio", 'job="shop"', lambda v: v > 10)
    wait_for_value(server, "p95_ms", 'job="shop"', lambda v: v > 2000)
    sample = spec(server, 'job="shop"', "error_ratio", "p95_ms").check()
    assert sample.up and sample.error is None
    assert 10 < sample.error_ratio <= 30 and 2000 < sample.p95_ms <= 2500
    app.error_share, app.latency = 0.0, 0.01
    wait_for_value(server, "error_ratio", 'job="shop"', lambda v: v == 0)
    wait_for_value(server, "p95_ms", 'job="shop"', lambda v: v < 100)
    sample = spec(server, 'job="shop"', "error_ratio", "p95_ms").check()
    assert sample.up and sample.error_ratio == 0.0 and sample.p95_ms < 100


def test_cpu_and_memory_of_the_host_from_node_exporter(stack):
    _app, feed, server = stack
    feed.set(busy=0.9, memory_used=0.9)
    wait_for_value(server, "cpu_percent", 'job="node"', lambda v: abs(v - 90) < 2)
    sample = spec(server, 'job="node"', "cpu_percent", "memory_percent").check()
    assert sample.up, sample.error
    assert sample.cpu_percent == pytest.approx(90, abs=4) and sample.memory_percent == pytest.approx(90, abs=0.01)
    feed.set(busy=0.2, memory_used=0.5)
    wait_for_value(server, "cpu_percent", 'job="node"', lambda v: abs(v - 20) < 2)
    sample = spec(server, 'job="node"', "cpu_percent", "memory_percent").check()
    assert sample.cpu_percent == pytest.approx(20, abs=4) and sample.memory_percent == pytest.approx(50, abs=0.01)


def test_a_failed_query_is_a_failed_check_with_its_reason(stack):
    _app, _feed, server = stack
    bad = PrometheusSpec(url=server.url, queries=(("cpu_percent", "rate(node_cpu_seconds_total[5m]"),)).check()
    assert not bad.up and bad.cpu_percent is None
    assert bad.error.startswith("CPU query: bad_data: ")
    nothing = spec(server, 'job="no-such-job"', "memory_percent").check()
    assert not nothing.up and nothing.error == "memory query: no data: no series matches the query"
    base = closed_port_url("").rstrip("/")
    unreachable = PrometheusSpec(url=base, queries=(("cpu_percent", "1"),)).check()
    assert not unreachable.up and unreachable.error == "CPU query: connection refused"
    other = spec(server, 'job="shop"', "error_ratio", "memory_percent").check()
    assert not other.up and other.error_ratio is not None, "what answered is kept beside what failed"


def test_answers_are_read_as_the_api_documents_them():
    assert parse_answer(200, b'{"status":"success","data":{"resultType":"scalar","result":[1,"2.5"]}}') == 2.5
    vector = b'{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"NaN"]}]}}'
    assert parse_answer(200, vector) is None
    two = (
        b'{"status":"success","data":{"resultType":"vector","result":['
        b'{"metric":{"i":"a"},"value":[1,"3"]},{"metric":{"i":"b"},"value":[1,"7"]}]}}'
    )
    assert parse_answer(200, two) == 7.0, "the worst series counts"
    with pytest.raises(prometheus_api.QueryError, match="execution: query timed out"):
        parse_answer(503, b'{"status":"error","errorType":"execution","error":"query timed out"}')
    with pytest.raises(prometheus_api.QueryError, match="not a Prometheus API answer"):
        parse_answer(502, b"<html>Bad gateway</html>")
    with pytest.raises(prometheus_api.QueryError, match="matrix"):
        parse_answer(200, b'{"status":"success","data":{"resultType":"matrix","result":[]}}')


def test_queries_take_the_selector_and_window():
    assert render("up{$selector}", "") == "up{}"
    assert render('x{a="1",$selector}[$window]', 'job="j"', "30s") == 'x{a="1",job="j"}[30s]'
    assert render('x{a="1", $selector}', "") == 'x{a="1"}'
    with pytest.raises(ValueError):
        render("x[$window]", "", "5 minutes")
    with pytest.raises(ValueError):
        PrometheusSpec(url="ftp://nope", queries=(("cpu_percent", "1"),))
