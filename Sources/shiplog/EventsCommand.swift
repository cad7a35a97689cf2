import ArgumentParser
import ShiplogKit

struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the raw log, in append order, filtered.",
        discussion: """
            --format ndjson prints native events: `shiplog events --format ndjson | shiplog ingest` \
            round-trips (everything is a duplicate).
            """)

    @OptionGroup var store: StoreOptions

    @Option(name: .customLong("type"), help: ArgumentHelp("An event type (deployment.failed) or family (deployment); repeatable.", valueName: "type"))
    var types: [String] = []

    @Option(help: ArgumentHelp("Only this stream (service/ML-PIPE/P1, repo/owner/name, …).", valueName: "stream"))
    var stream: String?

    @Option(help: "Only events of this cluster.") var cluster: String?
    @Option(help: "Only events of this service.") var service: String?
    @Option(help: ArgumentHelp("Only events naming this commit (a sha or a prefix of ≥ 7 hex digits).", valueName: "sha"))
    var commit: String?
    @Option(help: "Only events by this actor.") var actor: String?

    @OptionGroup var range: TimeRangeOptions
    @OptionGroup var known: KnownAtOption

    @Option(help: "At most this many events.") var limit: Int?

    @OptionGroup var output: FormatOptions

    func validate() throws {
        if let commit, commit.count < 7 || !commit.allSatisfy(\.isHexDigit) {
            throw ValidationError("--commit needs at least 7 hex digits")
        }
        if let limit, limit < 0 { throw ValidationError("--limit must not be negative") }
    }

    func run() throws {
        var filter = EventFilter()
        filter.types = types
        filter.stream = stream
        filter.cluster = cluster
        filter.service = service
        filter.commit = commit
        filter.actor = actor
        filter.since = range.since?.timestamp
        filter.until = range.until?.timestamp
        filter.limit = limit
        let opened = try store.open()
        if let knownAt = known.knownAt { filter.upToPosition = try opened.position(knownAt: knownAt.timestamp) }
        if output.format == .table {
            var table = TextTable([
                .init("POS", rightAligned: true), .init("TIME"), .init("TYPE"), .init("STREAM", flexible: true, minimumWidth: 12),
                .init("DETAIL", flexible: true, minimumWidth: 10),
            ])
            try opened.events(filter) { event in
                table.append([String(event.position), event.time.shortRFC3339, event.type, event.stream, event.summary])
            }
            Terminal.write(table.rows.isEmpty ? "no events\n" : table.render())
            return
        }
        try Answers.events(opened, filter, format: output.format, to: Terminal.output)
    }
}
