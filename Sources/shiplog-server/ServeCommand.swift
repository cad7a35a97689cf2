import ArgumentParser
import Dispatch
import Logging
import ShiplogKit
import ShiplogServer

#if canImport(Glibc)
    import Glibc
#endif

/// `shiplog serve`, in a binary of its own: the server links Hummingbird, NIO and Foundation,
/// which would add their start-up time to every other command. `shiplog serve` runs this one.
@main
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shiplog serve",
        abstract: "Receive GitHub webhooks, EventBridge events and native events over HTTP, and answer queries.",
        discussion: """
            Routes: POST /hooks/github (X-Hub-Signature-256 under a configured secret), POST \
            /hooks/eventbridge (an API destination's API-key header or Basic auth), POST /events \
            (Authorization: Bearer <write token>; one document or NDJSON), GET /api/where, \
            /api/history/SERVICE, /api/trace/REF, /api/rollback/SERVICE, /api/events, \
            /api/diff, /api/metrics, /api/export/KIND and / (the HTML report) (a read or \
            write token, unless reads are public), /healthz, /readyz, /metrics (Prometheus). \
            The API is described in schema/openapi.yaml.

            A 2xx means the request's documents are committed to the log; a refused request \
            stores nothing. SIGTERM or SIGINT: stop accepting, answer what was accepted, exit 0.

            Credentials come from --config FILE (JSON; secrets named by {"env": NAME} or \
            {"file": PATH}, never written in it), else from $SHIPLOG_GITHUB_SECRET, \
            $SHIPLOG_WRITE_TOKEN, $SHIPLOG_READ_TOKEN, $SHIPLOG_EVENTBRIDGE_API_KEY (header \
            x-shiplog-api-key) and $SHIPLOG_EVENTBRIDGE_USER / $SHIPLOG_EVENTBRIDGE_PASSWORD.
            """)

    @Option(name: .long, help: "The store (default: $SHIPLOG_DB, else $XDG_DATA_HOME/shiplog/shiplog.db).")
    var db: String?
    @Option(help: ArgumentHelp(
        "Sign the checkpoints it appends with this key (default: $SHIPLOG_SIGNING_KEY_FILE, else the key in $SHIPLOG_SIGNING_KEY).",
        valueName: "file"))
    var signingKey: String?
    @Option(help: ArgumentHelp("Where to listen (default 127.0.0.1:8080, or the config's listen).", valueName: "host:port"))
    var listen: String?
    @Option(help: ArgumentHelp("The server configuration (JSON).", valueName: "file")) var config: String?
    @Flag(help: "Check the configuration, print where each credential comes from (never its value), and exit.")
    var checkConfig = false
    @Flag(help: "Answer the read API without a token.") var publicReads = false

    func run() throws {
        var configuration: ServerConfiguration
        do { configuration = try ServerConfiguration.load(path: config) } catch let error as ConfigurationError {
            throw Failure(error.description, status: 2)
        }
        if let listen {
            do { (configuration.host, configuration.port) = try ServerConfiguration.parseListen(listen, origin: "--listen") } catch {
                throw Failure("\(error)", status: 2)
            }
        }
        if publicReads { configuration.publicReads = true }
        let path = db != nil ? StoreLocation.resolve(db) : (configuration.database ?? StoreLocation.resolve(nil))
        if checkConfig {
            Output.line("store: \(path)\n" + configuration.summary.dropLast())
            return
        }
        let signer: CheckpointSigner?
        do { signer = try CheckpointSigner.load(file: signingKey) } catch { throw Failure(error.description, status: 2) }
        do { _ = try EventStore(path: path, mode: .existing) } catch {  // a missing or damaged store is refused here
            throw Failure(error.description, status: 1)
        }
        let server = ShiplogHTTPServer(configuration: configuration, databasePath: path, signer: signer)
        var logger = Logger(label: "shiplog") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .info
        let host = configuration.host
        let finished = DispatchSemaphore(value: 0)
        let outcome = ServeOutcome()
        Task {
            do {
                try await server.run(logger: logger) { port in
                    // On stdout, so a script (or a test) that asked for port 0 learns the real one.
                    Output.line("listening on \(host):\(port)")
                }
            } catch {
                outcome.failure = "\(error)"
            }
            finished.signal()
        }
        finished.wait()
        if let failure = outcome.failure { throw Failure("serve: \(failure)", status: 1) }
    }

    /// Runs the command with shiplog's exit statuses (0 ok, 1 error, 2 usage) and its one error
    /// style, secrets redacted from every message.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
            Glibc.exit(0)
        } catch let failure as Failure {
            Output.error("shiplog: " + failure.message)
            Glibc.exit(failure.status)
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                Output.line(message)
                Glibc.exit(0)
            }
            Output.error(message)
            Glibc.exit(code == .validationFailure ? 2 : 1)
        }
    }
}

struct Failure: Error {
    let message: String
    let status: Int32
    init(_ message: String, status: Int32) {
        self.message = message
        self.status = status
    }
}

/// How the server's task ended, read by the main thread after it signalled.
private final class ServeOutcome: @unchecked Sendable {
    var failure: String?
}

/// Standard output and error for the server's own messages; errors are redacted.
enum Output {
    nonisolated(unsafe) static let standard = FileWriter(descriptor: 1, path: "<stdout>")
    nonisolated(unsafe) static let errors = FileWriter(descriptor: 2, path: "<stderr>")

    static func line(_ text: String) {
        try? standard.write(text + "\n")
        try? standard.flush()
    }

    static func error(_ text: String) {
        try? errors.write(Redactor.redactedText(text) + "\n")
        try? errors.flush()
    }
}
