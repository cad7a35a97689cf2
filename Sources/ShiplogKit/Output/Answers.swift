/// A query's answer in a machine format, as bytes: what `--format json|ndjson|csv` prints and
/// what the server's read API sends. The CLI and the server both render through here, so the
/// two cannot drift apart.
public struct Answer: Sendable {
    public let bytes: [UInt8]
    public let format: OutputFormat

    public var contentType: String {
        switch format {
        case .json: return "application/json"
        case .ndjson: return "application/x-ndjson"
        case .csv: return "text/csv; charset=utf-8"
        case .table: return "text/plain; charset=utf-8"
        }
    }
}

public enum Answers {
    /// `where`: each service's current (or as-of) deployment.
    public static func services(_ rows: [ServiceStatus], format: OutputFormat) throws -> Answer {
        try records(format, columns: ServiceStatus.csvColumns) { write in
            for row in rows { try write(format == .csv ? row.flatRecord : row.record) }
        }
    }

    /// `history`: deployments, newest first.
    public static func deployments(_ rows: [DeploymentSummary], format: OutputFormat) throws -> Answer {
        try records(format, columns: DeploymentSummary.csvColumns) { write in
            for row in rows { try write(row.record) }
        }
    }

    /// `trace`: one object (JSON, NDJSON), or in CSV one row per deployment — the part of a trace
    /// that answers "where did it run, when".
    public static func trace(_ result: TraceResult, format: OutputFormat) throws -> Answer {
        try single(result.record, format: format) {
            try records(.csv, columns: DeploymentSummary.csvColumns) { write in
                for deployment in result.deployments { try write(deployment.record) }
            }
        }
    }

    /// `rollback`: the plan as one object.
    public static func rollback(_ plan: RollbackPlan, recorded: String? = nil, format: OutputFormat) throws -> Answer {
        var record = plan.record
        if let recorded { record["recorded"] = .string(recorded) }
        // A plan is one object; only JSON is pretty-printed.
        if format == .json { return Answer(bytes: Array((JSONWriter.pretty(.object(record)) + "\n").utf8), format: .json) }
        return Answer(bytes: Array((JSONWriter.compact(.object(record)) + "\n").utf8), format: .ndjson)
    }

    /// `diff`: one object, or in CSV one row per change.
    public static func diff(_ diff: RevisionDiff, format: OutputFormat) throws -> Answer {
        try single(diff.record, format: format) {
            try records(.csv, columns: ["what", "name", "from", "to"]) { write in
                for row in diff.rows {
                    try write(["what": .string(row[0]), "name": .string(row[1]), "from": .string(row[2]), "to": .string(row[3])])
                }
            }
        }
    }

    /// `metrics`: the whole answer as one object, or in NDJSON and CSV a row per service and period.
    public static func metrics(_ metrics: DeliveryMetrics, format: OutputFormat) throws -> Answer {
        if format == .json { return try single(metrics.record, format: .json) { preconditionFailure() } }
        return try records(format, columns: DeliveryMetrics.csvColumns) { write in
            for row in metrics.rows { try write(row) }
        }
    }

    /// `export`: the rows and their manifest, as `shiplog export` writes them.
    public static func export(_ store: EventStore, _ kind: ExportKind, filter: ScopeFilter, format: OutputFormat) throws -> Answer {
        let output = FileWriter.inMemory()
        try store.export(kind, filter: filter, format: format, to: output)
        return Answer(bytes: output.collected, format: format)
    }

    /// `events`: the matching events in log order.
    public static func events(_ store: EventStore, _ filter: EventFilter, format: OutputFormat) throws -> Answer {
        let output = FileWriter.inMemory()
        try events(store, filter, format: format, to: output)
        return Answer(bytes: output.collected, format: format)
    }

    /// The same, streamed to `output` as it is read (constant memory, for the whole log).
    public static func events(_ store: EventStore, _ filter: EventFilter, format: OutputFormat, to output: FileWriter) throws {
        let writer = RecordWriter(format: format, columns: StoredEvent.recordColumns, output: output)
        try store.events(filter) { try writer.write($0.record) }
        try writer.finish()
    }

    /// Writes records with a `RecordWriter` into memory.
    static func records(
        _ format: OutputFormat, columns: [String], _ body: ((JSONObject) throws -> Void) throws -> Void
    ) throws -> Answer {
        let output = FileWriter.inMemory()
        let writer = RecordWriter(format: format, columns: columns, output: output)
        try body { try writer.write($0) }
        try writer.finish()
        return Answer(bytes: output.collected, format: format)
    }

    private static func single(_ record: JSONObject, format: OutputFormat, csv: () throws -> Answer) throws -> Answer {
        switch format {
        case .json: return Answer(bytes: Array((JSONWriter.pretty(.object(record)) + "\n").utf8), format: .json)
        case .ndjson: return Answer(bytes: Array((JSONWriter.compact(.object(record)) + "\n").utf8), format: .ndjson)
        case .csv: return try csv()
        case .table: preconditionFailure("tables are rendered by the CLI")
        }
    }
}
