import pytest

from autopilot.monitoring import host_metrics
from autopilot.monitoring.host_metrics import MetricsError, MetricsState, parse_metrics

NODE_EXPORTER = """\
# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.
# TYPE node_cpu_seconds_total counter
node_cpu_seconds_total{{cpu="0",mode="idle"}} {idle0}
node_cpu_seconds_total{{cpu="0",mode="user"}} {user0}
node_cpu_seconds_total{{cpu="0",mode="iowait"}} 10
node_cpu_seconds_total{{cpu="1",mode="idle"}} {idle1}
node_cpu_seconds_total{{cpu="1",mode="user"}} {user1}
node_cpu_seconds_total{{cpu="1",mode="iowait"}} 10
# HELP node_memory_MemAvailable_bytes Memory information field MemAvailable_bytes.
# TYPE node_memory_MemAvailable_bytes gauge
node_memory_MemAvailable_bytes 2.5e+09
# TYPE node_memory_MemTotal_bytes gauge
node_memory_MemTotal_bytes 1e+10
node_filesystem_avail_bytes{{device="/dev/sda1",mountpoint="/a,b \\"quoted\\""}} 1.2e+10 1700000000000
# EOF
"""


def scrape(idle0, user0, idle1, user1):
    return NODE_EXPORTER.format(idle0=idle0, user0=user0, idle1=idle1, user1=user1).encode()


def host(reading):
    return reading.cpu_percent, reading.memory_percent


def test_json_metrics():
    assert host(parse_metrics(b'{"cpu_percent": 12.5, "memory_percent": 40}', "application/json")) == (12.5, 40.0)
    assert host(parse_metrics('{"memory_percent": 99.9}', None)) == (None, 99.9)


@pytest.mark.parametrize(
    "body",
    [
        '{"cpu_percent": "high"}',
        '{"cpu_percent": true}',
        '{"cpu_percent": 120}',
        '{"cpu_percent": -1}',
        '{"load": 1}',
        "[1, 2]",
        "{not json",
        "",
        "   ",
        "<html>503 Service Unavailable</html>",
        "just some words\nand more",
        "node_load1 0.5\n",
    ],
)
def test_garbage_is_a_clear_value_error(body):
    with pytest.raises(MetricsError) as caught:
        parse_metrics(body, "text/plain" if not body.startswith("{") else "application/json")
    assert isinstance(caught.value, ValueError) and str(caught.value)


def test_node_exporter_memory_and_cpu_over_two_scrapes():
    state = MetricsState()
    cpu, memory = host(parse_metrics(scrape(1000, 100, 1000, 100), "text/plain; version=0.0.4", state, "host"))
    assert cpu is None and memory == pytest.approx(75.0)
    # 2 CPUs: +60 s idle and +40 s user each -> 40 % busy
    cpu, memory = host(parse_metrics(scrape(1060, 140, 1060, 140), "text/plain", state, "host"))
    assert cpu == pytest.approx(40.0)
    # another key has its own history
    assert parse_metrics(scrape(5, 5, 5, 5), "text/plain", state, "other").cpu_percent is None


def test_counter_reset_gives_no_cpu_then_recovers():
    state = MetricsState()
    parse_metrics(scrape(1000, 100, 1000, 100), None, state, "h")
    assert parse_metrics(scrape(10, 1, 10, 1), None, state, "h").cpu_percent is None  # exporter restarted
    assert parse_metrics(scrape(20, 11, 20, 11), None, state, "h").cpu_percent == pytest.approx(50.0)


def test_without_state_cpu_is_none():
    assert parse_metrics(scrape(1, 1, 1, 1), None).cpu_percent is None


def test_memory_falls_back_without_memavailable():
    body = (
        "node_memory_MemTotal_bytes 1000\nnode_memory_MemFree_bytes 100\n"
        "node_memory_Buffers_bytes 50\nnode_memory_Cached_bytes 50\n"
    )
    assert host(parse_metrics(body, None)) == (None, pytest.approx(80.0))


def test_cpu_without_idle_series_is_refused():
    with pytest.raises(MetricsError):
        parse_metrics('node_cpu_seconds_total{cpu="0",mode="user"} 5\n', None, MetricsState(), "k")


def test_cpu_percent_helper():
    assert host_metrics.cpu_percent(None, (1, 2)) is None
    assert host_metrics.cpu_percent((10, 20), (10, 20)) is None
    assert host_metrics.cpu_percent((10, 20), (15, 30)) == 50.0


def test_local_host_reads_this_machine():
    cpu, memory = host_metrics.local_host(interval=0.05)
    assert 0 <= cpu <= 100 and 0 < memory <= 100


APP = """\
# HELP http_requests_total Requests served.
# TYPE http_requests_total counter
http_requests_total{{method="GET",code="200"}} {ok}
http_requests_total{{method="GET",code="500"}} {errors}
http_requests_total{{method="POST",code="404"}} 3
# HELP http_request_duration_seconds Request latency.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{{le="0.1"}} {fast}
http_request_duration_seconds_bucket{{le="2.5"}} {mid}
http_request_duration_seconds_bucket{{le="5.0"}} {slow}
http_request_duration_seconds_bucket{{le="+Inf"}} {all}
http_request_duration_seconds_count {all}
http_request_duration_seconds_sum 12.5
"""


def app(ok, errors, fast, mid, slow, total):
    return APP.format(ok=ok, errors=errors, fast=fast, mid=mid, slow=slow, all=total)


def test_application_error_ratio_and_p95_are_rates_between_scrapes():
    state = MetricsState()
    first = parse_metrics(app(100, 0, 100, 100, 103, 103), None, state, "shop")
    assert (first.error_ratio, first.p95_ms) == (None, None), "one scrape is no rate (and no silent 0)"
    # then 90 requests, 10 of them 500s (the 404s did not move); 20 took 2.5-5 s, the rest under 0.1 s
    second = parse_metrics(app(180, 10, 170, 170, 193, 193), None, state, "shop")
    assert second.error_ratio == pytest.approx(100 * 10 / 90, abs=0.001)
    # rank 0.95 * 90 = 85.5 of the 90 new requests: in the (2.5, 5] bucket, 15.5 of its 20
    assert second.p95_ms == pytest.approx((2.5 + 2.5 * (85.5 - 70) / 20) * 1000)
    idle = parse_metrics(app(180, 10, 170, 170, 193, 193), None, state, "shop")
    assert (idle.error_ratio, idle.p95_ms) == (None, None), "no request since: no figure"
    reset = parse_metrics(app(5, 0, 5, 5, 5, 5), None, state, "shop")
    assert (reset.error_ratio, reset.p95_ms) == (None, None), "the app restarted"


def test_p95_in_the_inf_bucket_is_the_largest_finite_bound():
    previous = [[0.1, 0], [1.0, 0], ["+Inf", 0]]
    assert host_metrics.quantile_ms(previous, [[0.1, 1], [1.0, 2], ["+Inf", 100]]) == 1000.0
    assert host_metrics.quantile_ms(previous, [[0.1, 100], [1.0, 100], ["+Inf", 100]]) == pytest.approx(95.0)


def test_state_restored_from_the_older_cpu_only_format():
    state = MetricsState()
    state.set("h", [1000.0, 1300.0])
    assert state.get("h") == {"cpu": [1000.0, 1300.0]}
