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


def test_json_metrics():
    assert parse_metrics(b'{"cpu_percent": 12.5, "memory_percent": 40}', "application/json") == (12.5, 40.0)
    assert parse_metrics('{"memory_percent": 99.9}', None) == (None, 99.9)


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
    cpu, memory = parse_metrics(scrape(1000, 100, 1000, 100), "text/plain; version=0.0.4", state, "host")
    assert cpu is None and memory == pytest.approx(75.0)
    # 2 CPUs: +60 s idle and +40 s user each -> 40 % busy
    cpu, memory = parse_metrics(scrape(1060, 140, 1060, 140), "text/plain", state, "host")
    assert cpu == pytest.approx(40.0)
    # another key has its own history
    assert parse_metrics(scrape(5, 5, 5, 5), "text/plain", state, "other")[0] is None


def test_counter_reset_gives_no_cpu_then_recovers():
    state = MetricsState()
    parse_metrics(scrape(1000, 100, 1000, 100), None, state, "h")
    assert parse_metrics(scrape(10, 1, 10, 1), None, state, "h")[0] is None  # exporter restarted
    assert parse_metrics(scrape(20, 11, 20, 11), None, state, "h")[0] == pytest.approx(50.0)


def test_without_state_cpu_is_none():
    assert parse_metrics(scrape(1, 1, 1, 1), None)[0] is None


def test_memory_falls_back_without_memavailable():
    body = (
        "node_memory_MemTotal_bytes 1000\nnode_memory_MemFree_bytes 100\n"
        "node_memory_Buffers_bytes 50\nnode_memory_Cached_bytes 50\n"
    )
    assert parse_metrics(body, None) == (None, pytest.approx(80.0))


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
