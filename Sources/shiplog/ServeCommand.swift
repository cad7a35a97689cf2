import ArgumentParser
import Dispatch
import Logging
import ShiplogKit
import ShiplogServer

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
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

    @OptionGroup var store: StoreOptions
    @OptionGroup var signing: SigningOptions
    @Option(help: ArgumentHelp("Where to listen (default 127.0.0.1:8080, or the config's listen).", valueName: "host:port"))
    var listen: String?
    @Option(help: ArgumentHelp("The server configuration (JSON).", valueName: "file")) var config: String?
    @Flag(help: "Check the configuration, print where each credential comes from (never its value), and exit.")
    var checkConfig = false
    @Flag(help: "Answer the read API without a token.") var publicReads = false

    func run() throws {
        var configuration: ServerConfiguration
        do { configuration = try ServerConfiguration.load(path: config) } catch let error as ConfigurationError {
            throw CommandFailure(error.description, status: .usage)
        }
        if let listen {
            do { (configuration.host, configuration.port) = try ServerConfiguration.parseListen(listen, origin: "--listen") } catch {
                throw CommandFailure("\(error)", status: .usage)
            }
        }
        if publicReads { configuration.publicReads = true }
        let path = store.db != nil ? store.path : (configuration.database ?? store.path)
        if checkConfig {
            Terminal.write("store: \(path)\n" + configuration.summary)
            return
        }
        _ = try EventStore(path: path, mode: .existing)  // a missing or damaged store is refused here, with the CLI's message
        let server = ShiplogHTTPServer(configuration: configuration, databasePath: path, signer: try signing.signer())
        var logger = Logger(label: "shiplog") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .info
        let host = configuration.host
        let finished = DispatchSemaphore(value: 0)
        let outcome = ServeOutcome()
        Task {
            do {
                try await server.run(logger: logger) { port in
                    // On stdout, so a script (or a test) that asked for port 0 learns the real one.
                    Terminal.write("listening on \(host):\(port)\n")
                    Terminal.flush()
                }
            } catch {
                outcome.failure = "\(error)"
            }
            finished.signal()
        }
        finished.wait()
        if let failure = outcome.failure { throw CommandFailure("serve: \(failure)") }
    }
}

/// How the server's task ended, read by the main thread after it signalled.
private final class ServeOutcome: @unchecked Sendable {
    var failure: String?
}
