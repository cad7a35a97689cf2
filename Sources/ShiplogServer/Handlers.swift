import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ShiplogKit

/// The routes: three ways in for events, health, and the read API.
struct Handlers: Sendable {
    let configuration: ServerConfiguration
    let databasePath: String
    let committer: GroupCommitter
    let metrics: ServerMetrics
    let logger: Logger

    func register(on router: Router<BasicRequestContext>) {
        router.post("hooks/github") { request, _ in try await self.github(request) }
        router.post("hooks/eventbridge") { request, _ in try await self.eventBridge(request) }
        router.post("events") { request, _ in try await self.events(request) }
        router.get("healthz") { _, _ in Self.json(.ok, ["status": "ok"]) }
        router.get("metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: self.metrics.text)))
        }
        router.get("readyz") { _, _ in try await self.ready() }
        router.get("api/where") { request, _ in try await self.read(request) { store, query in
            let rows = try store.whereRunning(cluster: query["cluster"], service: query["service"],
                                              asOf: try query.time("asOf"))
            return try Answers.services(rows, format: query.format)
        } }
        router.get("api/history/:service") { request, context in
            let service = try context.parameters.require("service")
            return try await self.read(request) { store, query in
                var filter = HistoryFilter()
                filter.since = try query.time("since")
                filter.until = try query.time("until")
                filter.actor = query["actor"]
                filter.limit = try query.integer("limit")
                let cluster = try store.cluster(ofService: service, given: query["cluster"])
                return try Answers.deployments(try store.history(cluster: cluster, service: service, filter: filter), format: query.format)
            }
        }
        router.get("api/trace/:ref") { request, context in
            let reference = try context.parameters.require("ref")
            return try await self.read(request) { store, query in
                try Answers.trace(try store.trace(reference, newestImages: try query.integer("limit")), format: query.format)
            }
        }
        router.get("api/rollback/:service") { request, context in
            let service = try context.parameters.require("service")
            return try await self.read(request) { store, query in
                var rollback = RollbackRequest(cluster: try store.cluster(ofService: service, given: query["cluster"]), service: service)
                rollback.to = query["to"].flatMap(TaskDefinitionID.init)
                rollback.force = query["force"] == "true"
                return try Answers.rollback(try store.planRollback(rollback), format: query.format)
            }
        }
        router.get("api/diff") { request, _ in try await self.read(request) { store, query in
            guard let from = query["from"], let to = query["to"] else { throw BadQuery("from and to are required") }
            if let service = query["service"] {
                let cluster = try store.cluster(ofService: service, given: query["cluster"])
                return try Answers.diff(try store.diff(cluster: cluster, service: service, from: from, to: to), format: query.format)
            }
            guard let fromRevision = TaskDefinitionID(from), let toRevision = TaskDefinitionID(to) else {
                throw BadQuery("from and to must be family:revision (or give service)")
            }
            return try Answers.diff(try store.diff(fromRevision, toRevision), format: query.format)
        } }
        router.get("api/metrics") { request, _ in try await self.read(request) { store, query in
            var metrics = MetricsRequest()
            metrics.cluster = query["cluster"]
            metrics.service = query["service"]
            if let service = metrics.service { _ = try store.cluster(ofService: service, given: metrics.cluster) }
            metrics.since = try query.time("since")
            metrics.until = try query.time("until")
            metrics.asOf = try query.time("asOf")
            if let by = query["by"] {
                guard let period = MetricsPeriod(rawValue: by) else { throw BadQuery("by must be day, week or month") }
                metrics.period = period
            }
            return try Answers.metrics(try store.metrics(metrics), format: query.format)
        } }
        router.get("api/export/:kind") { request, context in
            let name = try context.parameters.require("kind")
            return try await self.read(request) { store, query in
                guard let kind = ExportKind(rawValue: name) else {
                    throw BadQuery("no export \(name) (known: \(ExportKind.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                var filter = ScopeFilter()
                filter.since = try query.time("since")
                filter.until = try query.time("until")
                filter.cluster = query["cluster"]
                filter.service = query["service"]
                filter.actor = query["actor"]
                return try Answers.export(store, kind, filter: filter, format: try query.format)
            }
        }
        router.get("/") { request, _ in try await self.report(request) }
        router.get("api/events") { request, _ in try await self.read(request) { store, query in
            var filter = EventFilter()
            filter.types = query.all("type")
            filter.cluster = query["cluster"]
            filter.service = query["service"]
            filter.commit = query["commit"]
            filter.actor = query["actor"]
            filter.since = try query.time("since")
            filter.until = try query.time("until")
            filter.limit = try query.integer("limit")
            return try Answers.events(store, filter, format: query.format)
        } }
    }

    // MARK: Ways in

    /// `POST /hooks/github`: a webhook delivery, signed with one of the configured secrets.
    func github(_ request: Request) async throws -> Response {
        let body = try await collect(request)
        guard !configuration.githubSecrets.isEmpty else {
            return Self.error(.unauthorized, "no GitHub webhook secret is configured on this server; nothing stored")
        }
        let signature = request.headers[HTTPField.Name("X-Hub-Signature-256")!]
        guard Credentials.githubSignatureIsValid(signature, body: body, secrets: configuration.githubSecrets) else {
            return Self.error(.unauthorized, signature == nil
                ? "X-Hub-Signature-256 is missing: set a secret on the webhook; nothing stored"
                : "X-Hub-Signature-256 does not match the body under any configured secret; nothing stored")
        }
        guard let event = request.headers[HTTPField.Name("X-GitHub-Event")!], !event.isEmpty,
            let delivery = request.headers[HTTPField.Name("X-GitHub-Delivery")!], !delivery.isEmpty
        else { return Self.error(.badRequest, "X-GitHub-Event and X-GitHub-Delivery are required") }
        guard Self.isJSON(request) else {
            return Self.error(.unsupportedMediaType, "set the webhook's content type to application/json")
        }
        // The delivery form: a redelivery has the same GUID, so it is a duplicate, not a second event.
        var headers: JSONObject = ["X-GitHub-Event": .string(event), "X-GitHub-Delivery": .string(delivery)]
        if let hook = request.headers[HTTPField.Name("X-GitHub-Hook-ID")!] { headers["X-GitHub-Hook-ID"] = .string(hook) }
        guard let text = String(validating: body, as: UTF8.self) else {
            return Self.error(.badRequest, "the body is not UTF-8 text")
        }
        let document = JSONWriter.compact(["headers": .object(headers), "body": .string(text)])
        let prepared = try await prepare(Array(document.utf8), name: "github delivery \(delivery)")
        if event == "ping" { return Self.json(.ok, ["ping": true, "stored": false]) }
        return try await store(prepared)
    }

    /// `POST /hooks/eventbridge`: an event as an EventBridge API destination sends it.
    func eventBridge(_ request: Request) async throws -> Response {
        let body = try await collect(request)
        guard eventBridgeCallerIsAuthorized(request) else {
            return Self.error(.unauthorized, configuration.eventBridgeAPIKeys.isEmpty && configuration.eventBridgeBasicPasswords.isEmpty
                ? "no EventBridge credentials are configured on this server; nothing stored"
                : "the EventBridge connection's credentials do not match; nothing stored")
        }
        return try await store(try await prepare(body, name: "eventbridge"))
    }

    /// `POST /events`: native events or any document shiplog reads, one or NDJSON, with a write token.
    func events(_ request: Request) async throws -> Response {
        let body = try await collect(request)
        switch tokenAccess(request) {
        case .none: return Self.error(.unauthorized, "a write token is required (Authorization: Bearer …); nothing stored")
        case .read: return Self.error(.forbidden, "this token may read, not write; nothing stored")
        case .write: break
        }
        return try await store(try await prepare(body, name: "request"))
    }

    /// Appends what was prepared, or says why not: all or nothing per request.
    private func store(_ input: PreparedInput) async throws -> Response {
        if !input.rejections.isEmpty {
            metrics.refused(input.rejections.count)
            return Self.json(.badRequest, [
                "error": .string(input.rejections[0].reason), "rejected": .number(String(input.rejections.count)),
                "reasons": .array(input.rejections.prefix(100).map { .string($0.description) }), "appended": 0,
            ])
        }
        if input.prepared.isEmpty {
            metrics.ignored(input.ignored)
            let reason = input.ignoredReasons.keys.sorted().first ?? "no document"
            return Self.json(.accepted, ["appended": 0, "duplicates": 0, "ignored": .number(String(input.ignored)), "reason": .string(reason)])
        }
        let started = ContinuousClock.now
        let result: IntakeResult
        do { result = try await committer.append(input.prepared) } catch {
            // A store that cannot take the append (full disk, damaged file): nothing was committed,
            // and a 503 makes GitHub and EventBridge retry later.
            logger.error("append failed", metadata: ["error": .string(Redactor.redactedText("\(error)"))])
            return Self.error(.serviceUnavailable, "the log cannot take the append now: \(error); nothing stored")
        }
        metrics.stored(appended: result.appended, duplicates: result.duplicates, ignored: input.ignored, took: ContinuousClock.now - started)
        if !result.conflicts.isEmpty { metrics.refused(result.conflicts.count) }
        var answer: JSONObject = [
            "appended": .number(String(result.appended)), "duplicates": .number(String(result.duplicates)),
            "ignored": .number(String(input.ignored)),
        ]
        if !result.conflicts.isEmpty {
            answer["error"] = .string(result.conflicts[0])
            answer["conflicts"] = .array(result.conflicts.map { .string($0) })
            return Self.json(.conflict, answer)
        }
        return Self.json(.ok, answer)
    }

    /// Reads and normalizes a body off Swift's concurrency threads (it is CPU work on bytes).
    private func prepare(_ body: [UInt8], name: String) async throws -> PreparedInput {
        try await NIOThreadPool.singleton.runIfActive {
            try Ingestor(preparingOnly: IngestOptions()).prepare(bytes: body, name: name)
        }
    }

    private func collect(_ request: Request) async throws -> [UInt8] {
        var request = request
        do {
            let buffer = try await request.collectBody(upTo: configuration.maximumBodyBytes)
            return Array(buffer.readableBytesView)
        } catch {
            throw HTTPError(.contentTooLarge, message: "the body is larger than \(configuration.maximumBodyBytes) bytes; nothing stored")
        }
    }

    // MARK: Who may call

    enum Access { case none, read, write }

    private func tokenAccess(_ request: Request) -> Access {
        guard let token = Credentials.bearerToken(request.headers[.authorization]) else { return .none }
        if Credentials.matches(token, configuration.writeTokens) { return .write }
        if Credentials.matches(token, configuration.readTokens) { return .read }
        return .none
    }

    private func eventBridgeCallerIsAuthorized(_ request: Request) -> Bool {
        if !configuration.eventBridgeAPIKeys.isEmpty,
            let key = request.headers[HTTPField.Name(configuration.eventBridgeAPIKeyHeader)!],
            Credentials.matches(Array(key.utf8), configuration.eventBridgeAPIKeys)
        {
            return true
        }
        if let user = configuration.eventBridgeBasicUser, !configuration.eventBridgeBasicPasswords.isEmpty,
            let basic = Credentials.basicCredentials(request.headers[.authorization]),
            Credentials.equalInConstantTime(Array(basic.user.utf8), Array(user.utf8)),
            Credentials.matches(basic.password, configuration.eventBridgeBasicPasswords)
        {
            return true
        }
        return false
    }

    // MARK: Reading

    private func ready() async throws -> Response {
        let path = databasePath
        do {
            try await NIOThreadPool.singleton.runIfActive { _ = try EventStore(path: path, mode: .existing) }
            return Self.json(.ok, ["status": "ready"])
        } catch {
            return Self.error(.serviceUnavailable, "the store cannot be opened: \(error)")
        }
    }

    /// Runs a query on its own read connection, off Swift's concurrency threads.
    private func read(_ request: Request, _ answer: @escaping @Sendable (EventStore, Query) throws -> Answer) async throws -> Response {
        try await respond(to: request) { store, query in
            let result = try answer(store, query)
            return (result.bytes, result.contentType)
        }
    }

    /// `GET /`: the HTML report, made from the log as it is at the request.
    private func report(_ request: Request) async throws -> Response {
        try await respond(to: request) { store, query in
            let page = ReportRenderer.html(try store.reportData(cluster: query["cluster"], since: try query.time("since"),
                                                                until: try query.time("until")))
            return (Array(page.utf8), "text/html; charset=utf-8")
        }
    }

    /// Every read route: the token check, a read connection on a pool thread, and one mapping of
    /// query errors to statuses.
    private func respond(
        to request: Request, _ body: @escaping @Sendable (EventStore, Query) throws -> (bytes: [UInt8], contentType: String)
    ) async throws -> Response {
        if !configuration.publicReads, tokenAccess(request) == .none {
            return Self.error(.unauthorized, "a read token is required (Authorization: Bearer …)")
        }
        let query = Query(request.uri.queryParameters)
        let path = databasePath
        do {
            let result = try await NIOThreadPool.singleton.runIfActive {
                try body(try EventStore(path: path, mode: .existing), query)
            }
            var headers = HTTPFields()
            headers[.contentType] = result.contentType
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: result.bytes)))
        } catch let error as BadQuery {
            return Self.error(.badRequest, error.description)
        } catch let error as QueryError {
            switch error {
            case .unknownService, .notFound: return Self.error(.notFound, error.description)
            case .ambiguousService, .invalidReference: return Self.error(.badRequest, error.description)
            }
        } catch let error as RollbackError {
            return Self.error(.unprocessableContent, error.description)
        } catch let error as StoreError {
            logger.error("read failed", metadata: ["error": .string(Redactor.redactedText("\(error)"))])
            return Self.error(.internalServerError, Redactor.redactedText("\(error)"))
        }
    }

    // MARK: Responses

    static func json(_ status: HTTPResponse.Status, _ object: JSONObject) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: JSONWriter.compact(.object(object)) + "\n")))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        json(status, ["error": .string(Redactor.redactedText(message))])
    }

    static func isJSON(_ request: Request) -> Bool {
        guard let type = request.headers[.contentType]?.lowercased() else { return true }
        return type.hasPrefix("application/json") || type.hasPrefix("application/") && type.contains("+json")
    }
}

/// The query string of a read request, with the same parsing rules as the CLI's options.
struct Query: Sendable {
    let parameters: [(String, String)]

    init(_ parameters: FlatDictionary<Substring, Substring>) {
        self.parameters = parameters.map { (String($0.key), String($0.value)) }
    }

    subscript(name: String) -> String? { parameters.first { $0.0 == name }?.1 }

    func all(_ name: String) -> [String] { parameters.filter { $0.0 == name }.map(\.1) }

    var format: OutputFormat {
        get throws {
            guard let text = self["format"] else { return .json }
            guard let format = OutputFormat(rawValue: text), format != .table else {
                throw BadQuery("format must be json, ndjson or csv, not \"\(text)\"")
            }
            return format
        }
    }

    func time(_ name: String) throws -> Timestamp? {
        guard let text = self[name] else { return nil }
        guard let time = TimeExpression.parse(text, now: System.now()) else {
            throw BadQuery("\(name): \"\(text)\" is not a time (\(TimeExpression.help))")
        }
        return time
    }

    func integer(_ name: String) throws -> Int? {
        guard let text = self[name] else { return nil }
        guard let value = Int(text), value >= 0 else { throw BadQuery("\(name) must be a whole number, 0 or more") }
        return value == 0 ? nil : value
    }
}

/// A read request's parameter that cannot be used.
struct BadQuery: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
