import ArgumentParser
import ShiplogKit

#if canImport(Glibc)
    import Glibc
#endif

/// The exit statuses shiplog documents.
enum ExitStatus: Int32 {
    case ok = 0
    case error = 1
    case usage = 2
    case rejected = 3
    case integrity = 4
}

/// A failure with a message for the user and the exit status it maps to.
struct CommandFailure: Error {
    let message: String
    let status: ExitStatus

    init(_ message: String, status: ExitStatus = .error) {
        self.message = message
        self.status = status
    }
}

/// Standard output and error, buffered; everything a command prints goes through here.
enum Terminal {
    nonisolated(unsafe) static let output = FileWriter(descriptor: 1, path: "<stdout>")
    nonisolated(unsafe) static let errors = FileWriter(descriptor: 2, path: "<stderr>")

    /// Prints text for people (or JSON): terminal controls in it are escaped (`TerminalText`),
    /// so a stored value cannot clear the screen or retitle the window. Exports and CSV are
    /// written to `output` directly and keep every byte.
    static func write(_ text: String) {
        try? output.write(TerminalText.escaped(text))
    }

    /// Prints a document as it is (the Markdown or HTML report, which escape their own values).
    static func writeDocument(_ text: String) {
        try? output.write(text)
    }

    /// A query's answer in a machine format, as the server also sends it. JSON gets the same
    /// escapes as any text (they are JSON's own, so it parses to the same values); CSV is data
    /// for spreadsheets and scripts and goes out exact.
    static func write(_ answer: Answer) {
        if answer.format == .csv {
            try? output.write(answer.bytes)
        } else {
            write(String(decoding: answer.bytes, as: UTF8.self))
        }
    }

    static func flush() {
        try? output.flush()
        try? errors.flush()
    }

    static var errorIsTerminal: Bool { System.isTerminal(2) }
}

/// Writes a message to standard error, with anything secret-shaped in it redacted (a message may
/// quote the input it is about).
func printError(_ message: String, prefix: Bool = true) {
    let message = Redactor.redactedText(message)
    try? Terminal.output.flush()
    let line = (prefix ? "shiplog: " : "") + message + (message.hasSuffix("\n") ? "" : "\n")
    try? Terminal.errors.write(TerminalText.escaped(line))
    try? Terminal.errors.flush()
}

/// `--db`: where the store lives.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The store (default: $SHIPLOG_DB, else $XDG_DATA_HOME/shiplog/shiplog.db).")
    var db: String?

    var path: String { StoreLocation.resolve(db) }

    /// Opens the existing store.
    func open() throws -> EventStore {
        try EventStore(path: path, mode: .existing)
    }
}

/// `--format`: a table for people, JSON / NDJSON / CSV for scripts.
struct FormatOptions: ParsableArguments {
    @Option(name: .long, help: "Output format: table, json, ndjson or csv.")
    var format: OutputFormat = .table
}

extension OutputFormat: ExpressibleByArgument {}

/// A time given on the command line: RFC 3339, a date, or a span back from now (7d, 12h).
struct Moment: ExpressibleByArgument {
    let timestamp: Timestamp

    init?(argument: String) {
        guard let timestamp = TimeExpression.parse(argument) else { return nil }
        self.timestamp = timestamp
    }

    static var defaultValueDescription: String { "time" }
}

/// `--known-at`, beside `--as-of`: which appends to count, by the time they were recorded.
struct KnownAtOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Answer from what the log had recorded by this time: events appended later are left out, even backdated ones (--as-of, which cuts by event time, defaults to it).",
            valueName: "time"))
    var knownAt: Moment?
}

/// `--since` / `--until`.
/// The options of commands over changes across the fleet: audit and export.
struct ScopeOptions: ParsableArguments {
    @OptionGroup var range: TimeRangeOptions
    @Option(help: "Only this cluster.") var cluster: String?
    @Option(help: "Only this service.") var service: String?
    @Option(help: "Only changes by this actor.") var actor: String?

    var filter: ScopeFilter {
        var filter = ScopeFilter()
        filter.since = range.since?.timestamp
        filter.until = range.until?.timestamp
        filter.cluster = cluster
        filter.service = service
        filter.actor = actor
        return filter
    }
}

struct TimeRangeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Only from this time on: \(TimeExpression.help).", valueName: "time"))
    var since: Moment?

    @Option(help: ArgumentHelp("Only up to this time.", valueName: "time"))
    var until: Moment?

    func validate() throws {
        if let since, let until, until.timestamp < since.timestamp {
            throw ValidationError("--until is before --since")
        }
    }
}

/// Refuses, before anything is opened, an output file that is the store or one of the inputs.
func refuseOverwriting(_ output: String?, option: String, store: String?, inputs: [String] = []) throws {
    guard let output, let problem = OutputSafety.problem(writing: output, store: store, inputs: inputs) else { return }
    throw CommandFailure("\(option) \(problem); nothing was written", status: .usage)
}
