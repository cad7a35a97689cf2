import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ShiplogKit

/// `shiplog serve`: receives GitHub webhooks, EventBridge API-destination calls and native
/// events over HTTP, appends them to the log, and answers the same queries as the CLI.
///
/// What a 2xx promises: the documents of that request are committed to the log. Everything is
/// checked — signature or token, JSON, the adapter's reading — before anything is appended, so a
/// refused request stores nothing.
public struct ShiplogHTTPServer: Sendable {
    public let configuration: ServerConfiguration
    public let databasePath: String
    /// Signs every checkpoint the server appends (a store with signed checkpoints refuses
    /// unsigned appends).
    public let signer: CheckpointSigner?

    public init(configuration: ServerConfiguration, databasePath: String, signer: CheckpointSigner? = nil) {
        self.configuration = configuration
        self.databasePath = databasePath
        self.signer = signer
    }

    /// Runs until SIGTERM or SIGINT: then stops accepting, answers what it accepted (committing
    /// it), and returns.
    public func run(logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let writer = try EventStore(path: databasePath, mode: .existing)
        writer.checkpointSigner = signer
        try writer.ensureProjections()
        let metrics = ServerMetrics()
        let committer = GroupCommitter(store: UncheckedStore(writer), metrics: metrics)
        let handlers = Handlers(configuration: configuration, databasePath: databasePath, committer: committer, metrics: metrics,
                                logger: logger)
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: RequestLog(logger: logger, metrics: metrics))
        handlers.register(on: router)
        let app = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .seconds(Int64(configuration.idleTimeoutSeconds)))),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "shiplog",
                availableConnectionsDelegate: MaximumAvailableConnections(configuration.maximumConcurrentRequests)),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        try await app.runService()
        // Every accepted request has been answered; nothing is left queued, but make sure.
        await committer.shutdown()
        logger.info("stopped", metadata: ["db": .string(databasePath)])
    }
}

/// The store the committer writes through: used by its one writing thread only.
final class UncheckedStore: @unchecked Sendable {
    let store: EventStore
    init(_ store: EventStore) { self.store = store }
}

/// One line per request: method, path, status and time taken. Never a header, a query string
/// (it may carry filters a user considers private) or a body.
struct RequestLog<Context: RequestContext>: RouterMiddleware {
    let logger: Logger
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            log(request, status: Int(response.status.code), since: start)
            return response
        } catch let error as HTTPError {
            log(request, status: Int(error.status.code), since: start)
            throw error
        } catch {
            log(request, status: 500, since: start)
            throw error
        }
    }

    private func log(_ request: Request, status: Int, since start: ContinuousClock.Instant) {
        metrics.request(route: Self.route(request.uri.path), method: request.method.rawValue, status: status)
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        logger.info("request", metadata: [
            "method": .string(request.method.rawValue), "path": .string(Redactor.redactedText(request.uri.path)),
            "status": .stringConvertible(status),
            "ms": .string(String(Int(milliseconds * 10) / 10)),
        ])
    }

    /// The route a path belongs to, for a metric label: parameters dropped so the label set stays
    /// small whatever callers send.
    static func route(_ path: String) -> String {
        for prefix in ["/api/history/", "/api/trace/", "/api/rollback/"] where path.hasPrefix(prefix) { return prefix + "*" }
        switch path {
        case "/hooks/github", "/hooks/eventbridge", "/events", "/healthz", "/readyz", "/metrics", "/api/where", "/api/events",
            "/api/diff", "/api/metrics":
            return path
        default: return "other"
        }
    }
}
