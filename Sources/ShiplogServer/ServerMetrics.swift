import Prometheus

/// What `GET /metrics` exposes, in Prometheus' text format: requests by route and status, what
/// the log took in (appended, duplicate, rejected, ignored documents), and how long appends
/// took from the request's point of view (queueing for the group commit included).
final class ServerMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let appendSeconds: DurationHistogram
    private let appended: Counter
    private let duplicates: Counter
    private let rejected: Counter
    private let ignored: Counter
    private let commits: Counter

    init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        func counter(_ name: String, _ unit: String, _ help: String) -> Counter {
            registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "shiplog", metricName: name, unitName: unit, helpText: help))
        }
        appended = counter("events_appended", "total", "Events appended to the log.")
        duplicates = counter("events_duplicate", "total", "Events received again and counted as duplicates, not stored.")
        rejected = counter("documents_rejected", "total", "Documents refused (not JSON, not readable, conflicting id); nothing of them stored.")
        ignored = counter("documents_ignored", "total", "Documents read that record no pipeline change.")
        commits = counter("commits", "total", "Transactions the group committer wrote.")
        appendSeconds = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(namespace: "shiplog", metricName: "append", unitName: "seconds",
                                             helpText: "Time from a request's documents being ready to their commit."),
            buckets: [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                      .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5)])
    }

    func request(route: String, method: String, status: Int) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "shiplog", metricName: "http_requests", unitName: "total", helpText: "HTTP requests answered."),
            labels: [("route", route), ("method", method), ("status", String(status))]
        ).increment()
    }

    func stored(appended count: Int, duplicates duplicateCount: Int, ignored ignoredCount: Int, took duration: Duration) {
        appended.increment(by: Int64(count))
        duplicates.increment(by: Int64(duplicateCount))
        ignored.increment(by: Int64(ignoredCount))
        appendSeconds.record(duration)
    }

    func refused(_ count: Int) { rejected.increment(by: Int64(count)) }
    func ignored(_ count: Int) { ignored.increment(by: Int64(count)) }
    func committed() { commits.increment() }

    var text: [UInt8] { registry.emitToBuffer() }
}
