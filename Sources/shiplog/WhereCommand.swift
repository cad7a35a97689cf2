import ArgumentParser
import ShiplogKit

struct Where: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what runs in each service, now or at a past moment.",
        discussion: """
            After a failed or rolled-back deployment a service shows the revision it returned to. \
            --as-of answers from the events whose time is at or before T; --known-at also leaves \
            out events appended after T, so an answer given at T is given again exactly. Digests come from what ECS \
            reported its tasks ran; else from a digest the task definition pins; else from what the \
            tag pointed at when the deployment started (marked as inferred).
            """)

    @OptionGroup var store: StoreOptions
    @Option(help: "Only this cluster.") var cluster: String?
    @Option(help: "Only this service.") var service: String?
    @Option(help: ArgumentHelp("Answer as of this time: \(TimeExpression.help).", valueName: "time")) var asOf: Moment?
    @OptionGroup var known: KnownAtOption
    @Option(help: "Output format: table, json, ndjson, csv, or mermaid (a cluster → service → revision diagram).")
    var format: MapFormat = .table

    /// `where` speaks the record formats and also draws its answer as a Mermaid diagram.
    enum MapFormat: String, ExpressibleByArgument, CaseIterable {
        case table, json, ndjson, csv, mermaid
    }

    func run() throws {
        let opened = try store.open()
        try opened.ensureProjections()
        let knownAt = known.knownAt?.timestamp
        let rows = try opened.asKnown(at: knownAt) {
            try opened.whereRunning(cluster: cluster, service: service, asOf: asOf?.timestamp ?? knownAt)
        }
        if let recordFormat = OutputFormat(rawValue: format.rawValue) {
            try Self.print(rows, format: recordFormat)
        } else {
            Terminal.write(MermaidMap.render(rows))
        }
    }

    static func print(_ rows: [ServiceStatus], format: OutputFormat) throws {
        guard format == .table else {
            try Terminal.write(Answers.services(rows, format: format))
            return
        }
        guard !rows.isEmpty else {
            Terminal.write("no services\n")
            return
        }
        var table = TextTable([
            .init("CLUSTER", flexible: true, minimumWidth: 8), .init("SERVICE", flexible: true, minimumWidth: 8),
            .init("REVISION", flexible: true, minimumWidth: 12, shrinkPriority: 1), .init("STATUS"), .init("DIGEST"),
            .init("COMMIT"), .init("DEPLOYED"), .init("BY", flexible: true, shrinkPriority: 2), .init("TASKS", rightAligned: true),
        ])
        for row in rows {
            let digest = row.images.first?.digest.map { Abbreviate.digest($0) + (row.images.first!.digestSource?.isInferred == true ? "~" : "") }
            let commit = row.commit.map { Abbreviate.commit($0) + (row.commitSource?.isInferred == true ? "~" : "") }
            let tasks = "\(row.runningCount.map(String.init) ?? "?")/\(row.desiredCount.map(String.init) ?? "?")"
            table.append([
                row.cluster, row.service, row.taskDefinition?.description ?? "-", row.status?.rawValue ?? "-", digest ?? "-",
                commit ?? "-", Abbreviate.minute(row.deployedAt), Abbreviate.actor(row.deployedBy), tasks,
            ])
        }
        Terminal.write(table.render())
        if rows.contains(where: { $0.commitSource?.isInferred == true || $0.images.first?.digestSource?.isInferred == true }) {
            Terminal.write("~ inferred (a tag, not a reported digest or a stated commit); --format json says how\n")
        }
    }
}

struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a service's deployments, newest first, with their outcomes.",
        discussion: "Every attempt is kept: failed, rolled back by the circuit breaker, superseded.")

    @OptionGroup var store: StoreOptions
    @Argument(help: "The service.") var service: String
    @Option(help: "Its cluster (needed when several clusters have a service of that name).") var cluster: String?
    @OptionGroup var range: TimeRangeOptions
    @Option(name: .customLong("status"), help: ArgumentHelp(
        "Only these outcomes: \(DeploymentStatus.allCases.map(\.rawValue).joined(separator: ", ")) (repeatable).", valueName: "status"))
    var statuses: [String] = []
    @Option(help: "Only deployments by this actor.") var actor: String?
    @Option(help: "At most this many (default: the newest 50 in a table, all in other formats; 0: all).") var limit: Int?
    @OptionGroup var output: FormatOptions

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more") }
        for status in statuses where DeploymentStatus(rawValue: status.uppercased()) == nil {
            throw ValidationError("--status \(status) is not one of \(DeploymentStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let opened = try store.open()
        try opened.ensureProjections()
        let resolvedCluster = try queryFailure { try opened.cluster(ofService: service, given: cluster) }
        var filter = HistoryFilter()
        filter.since = range.since?.timestamp
        filter.until = range.until?.timestamp
        filter.statuses = statuses.compactMap { DeploymentStatus(rawValue: $0.uppercased()) }
        filter.actor = actor
        // A table is for reading: the newest 50 unless asked; one more is fetched to tell whether there are others.
        let shown = limit.map { $0 == 0 ? nil : $0 } ?? (output.format == .table ? 50 : nil)
        filter.limit = shown.map { $0 + 1 }
        var rows = try opened.history(cluster: resolvedCluster, service: service, filter: filter)
        let more = shown.map { rows.count > $0 } ?? false
        if let shown, more { rows.removeLast(rows.count - shown) }
        try Self.print(rows, format: output.format)
        if more, output.format == .table {
            Terminal.write("(older deployments are not shown: --limit N, or --limit 0 for all)\n")
        }
    }

    static func print(_ rows: [DeploymentSummary], format: OutputFormat) throws {
        guard format == .table else {
            try Terminal.write(Answers.deployments(rows, format: format))
            return
        }
        guard !rows.isEmpty else {
            Terminal.write("no deployments\n")
            return
        }
        var table = TextTable([
            .init("STARTED"), .init("STATUS"), .init("REVISION", flexible: true, minimumWidth: 12),
            .init("DEPLOYMENT", flexible: true, minimumWidth: 14, shrinkPriority: 1), .init("DIGEST"), .init("COMMIT"),
            .init("BY", flexible: true, shrinkPriority: 2),
        ])
        for row in rows {
            let revision = (row.taskDefinition?.description ?? "-") + (row.taskDefinitionInferred ? "~" : "")
            let commit = row.commit.map { Abbreviate.commit($0) + (row.commitSource?.isInferred == true ? "~" : "") }
            let digest = row.images.first?.digest.map { Abbreviate.digest($0) + (row.images.first!.digestSource?.isInferred == true ? "~" : "") }
            table.append([
                Abbreviate.minute(row.startedAt), row.status.rawValue, revision, row.deploymentID ?? row.key, digest ?? "-",
                commit ?? "-", Abbreviate.actor(row.actor ?? row.trigger),
            ])
        }
        Terminal.write(table.render())
    }
}

/// Maps query errors (unknown service, ambiguous, not found) to a plain error message.
func queryFailure<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as QueryError { throw CommandFailure(error.description) }
}
