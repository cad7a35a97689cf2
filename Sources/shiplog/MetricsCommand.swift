import ArgumentParser
import ShiplogKit

struct Metrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the four DORA delivery metrics, in total, per service and per period.",
        discussion: """
            deployment frequency: COMPLETED deployments. lead time for changes: every commit a \
            COMPLETED deployment brought (all since the service's previous deployed commit), from its \
            commit time to the deployment's finish; median and p90. change failure rate: deployments \
            that FAILED, were ROLLED_BACK, were followed by a rollback or were marked bad, each once, \
            over all finished deployments. time to restore: from such a deployment to the service's \
            next COMPLETED one. Rollbacks restore and are not counted as changes. --as-of T counts the \
            events whose time is at or before T; --known-at T also only those the log had recorded \
            by T, so a figure published at T is reproduced exactly after backdated events arrive.
            """)

    @OptionGroup var store: StoreOptions
    @Option(help: "Only this cluster.") var cluster: String?
    @Option(help: "Only this service.") var service: String?
    @OptionGroup var range: TimeRangeOptions
    @Option(help: "Break down by day, week (from Monday, UTC) or month.") var by: MetricsPeriod = .week
    @Option(help: ArgumentHelp("Answer as of this time: \(TimeExpression.help).", valueName: "time")) var asOf: Moment?
    @OptionGroup var known: KnownAtOption
    @OptionGroup var output: FormatOptions

    func run() throws {
        let opened = try store.open()
        try opened.ensureProjections()
        if let service {
            _ = try queryFailure { try opened.cluster(ofService: service, given: cluster) }
        }
        var request = MetricsRequest()
        request.cluster = cluster
        request.service = service
        request.since = range.since?.timestamp
        request.until = range.until?.timestamp
        request.period = by
        request.asOf = asOf?.timestamp ?? known.knownAt?.timestamp
        let metrics = try opened.asKnown(at: known.knownAt?.timestamp) { try opened.metrics(request) }
        if output.format == .table {
            Self.printTable(metrics)
        } else {
            try Terminal.write(Answers.metrics(metrics, format: output.format))
        }
    }

    static func printTable(_ metrics: DeliveryMetrics) {
        let range = "\(metrics.since.map { Abbreviate.minute($0) } ?? "the beginning") → \(metrics.until.map { Abbreviate.minute($0) } ?? "now")"
        var text = "\(metrics.services.count) service\(metrics.services.count == 1 ? "" : "s"), \(range), as of \(metrics.asOf.rfc3339)\n\n"
        var summary = TextTable([.init("METRIC"), .init("VALUE", rightAligned: true), .init("OVER", flexible: true)])
        for row in ReportRenderer.summaries(metrics.total) { summary.append([row.label.lowercased(), row.value, row.detail]) }
        text += summary.render()
        let periods = metrics.periods
        if !periods.isEmpty {
            var table = TextTable([
                .init(metrics.period.rawValue.uppercased()), .init("DEPLOYS", rightAligned: true), .init("COMMITS", rightAligned: true),
                .init("LEAD MEDIAN", rightAligned: true), .init("LEAD P90", rightAligned: true), .init("FAILED", rightAligned: true),
                .init("CFR", rightAligned: true), .init("RESTORE MEDIAN", rightAligned: true),
            ])
            for period in periods {
                let figures = period.total
                table.append([
                    period.label, String(figures.deployments), String(figures.commits), ReportRenderer.duration(figures.leadTimeMedian),
                    ReportRenderer.duration(figures.leadTimeP90), "\(figures.failed)/\(figures.attempted)",
                    ReportRenderer.rate(figures.changeFailureRate), ReportRenderer.duration(figures.restoreMedian),
                ])
            }
            text += "\n" + table.render()
        }
        if metrics.services.count > 1 {
            var table = TextTable([
                .init("SERVICE", flexible: true), .init("DEPLOYS", rightAligned: true), .init("LEAD MEDIAN", rightAligned: true),
                .init("CFR", rightAligned: true), .init("RESTORE MEDIAN", rightAligned: true),
            ])
            for service in metrics.services {
                let figures = metrics.figures(service: service)
                table.append([
                    service, String(figures.deployments), ReportRenderer.duration(figures.leadTimeMedian),
                    ReportRenderer.rate(figures.changeFailureRate), ReportRenderer.duration(figures.restoreMedian),
                ])
            }
            text += "\n" + table.render()
        }
        if !metrics.failures.isEmpty {
            var table = TextTable([
                .init("WHEN"), .init("SERVICE"), .init("DEPLOYMENT", flexible: true, shrinkPriority: 1), .init("REVISION"),
                .init("WHY", flexible: true, minimumWidth: 20),
            ])
            for failure in metrics.failures {
                table.append([Abbreviate.minute(failure.at), failure.service, failure.deploymentID, failure.taskDefinition ?? "-", failure.reason])
            }
            text += "\nchange failures\n" + table.render()
        }
        Terminal.write(text)
    }
}

extension MetricsPeriod: ExpressibleByArgument {}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a report: what runs now, the period's deployments, the DORA metrics, failures and why.",
        discussion: """
            --format html writes one self-contained file (no network) with an SVG timeline: a lane \
            per service, a bar per revision while it was live, failures and rollbacks marked, and \
            hover text with commit, digest and actor. It reads in light and dark and prints.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case md, html
    }

    @OptionGroup var store: StoreOptions
    @OptionGroup var range: TimeRangeOptions
    @Option(help: "Only this cluster.") var cluster: String?
    @Option(help: "md or html.") var format: Format = .md
    @Option(help: ArgumentHelp("Write here instead of standard output.", valueName: "file")) var output: String?

    func run() throws {
        try refuseOverwriting(output, option: "--output", store: store.path)
        let opened = try store.open()
        try opened.ensureProjections()
        let data = try opened.reportData(cluster: cluster, since: range.since?.timestamp, until: range.until?.timestamp)
        let text = format == .html ? ReportRenderer.html(data) : ReportRenderer.markdown(data)
        guard let output else {
            Terminal.writeDocument(text)
            return
        }
        let file = try FileWriter(path: output)
        try file.write(text)
        try file.close()
        Terminal.write("wrote the report (\(data.running.count) services, log position \(data.headPosition)) to \(output)\n")
    }
}
