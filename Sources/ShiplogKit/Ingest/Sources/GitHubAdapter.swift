/// GitHub webhooks: `push`, `workflow_run`, `workflow_job`, `create`, `deployment`,
/// `deployment_status`, `registry_package` and `package`.
///
/// Two forms are read. The *bare payload* (the request body as GitHub sends it) does not name its
/// event, so the event is recognised from its shape, and its id is derived from what it is about
/// (`github:push:owner/repo:refs/heads/main:<before>..<after>`), so the same payload twice is one
/// event. The *delivery form* wraps the body with the request headers,
/// `{"headers": {"X-GitHub-Event": …, "X-GitHub-Delivery": …}, "body": {…}}` (the body may also be
/// the raw JSON text, and `payload` may stand for `body`); the delivery GUID is then the id.
public struct GitHubAdapter: SourceAdapter {
    public let name = "github"

    public init() {}

    public func recognizes(_ document: JSON) -> Bool {
        if let headers = document["headers"]?.object {
            return Self.header(headers, "X-GitHub-Event") != nil
        }
        return document["sender"]?["login"] != nil && document["repository"] != nil
            || document["registry_package"] != nil || document["package"]?["package_type"] != nil
    }

    public func read(_ document: JSON, context: AdapterContext) throws(AdapterError) -> AdapterOutcome {
        var payload = document
        var event: String?
        var delivery: String?
        if let headers = document["headers"]?.object {
            event = Self.header(headers, "X-GitHub-Event")
            delivery = Self.header(headers, "X-GitHub-Delivery")
            guard let body = document["body"] ?? document["payload"] else {
                throw AdapterError("a delivery needs the request body in \"body\" (or \"payload\")")
            }
            if case .string(let raw) = body {
                // The text was redacted as a document of its own when it was read (Redactor).
                do { payload = try JSONParser.parse(raw, rejectsDuplicateKeys: true) } catch {
                    throw AdapterError("body: the raw request body is not JSON (\(error.reason))")
                }
            } else {
                payload = body
            }
            guard payload.object != nil else { throw AdapterError("body: expected a JSON object") }
        }
        guard let kind = event ?? Self.kind(of: payload) else {
            throw AdapterError("cannot tell which GitHub event this payload is; send it with its X-GitHub-Event header")
        }
        var outcome = try normalize(kind, payload)
        if case .events(var events) = outcome, let delivery {
            for index in events.indices {
                events[index].id = "github:delivery:\(delivery)" + (events.count > 1 ? "#\(index + 1)" : "")
                events[index].data["delivery"] = .string(delivery)
            }
            outcome = .events(events)
        }
        return outcome
    }

    static func header(_ headers: JSONObject, _ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.members.first { $0.key.lowercased() == wanted }?.value.string
    }

    /// The event a bare payload is, from the members only that event has.
    static func kind(of payload: JSON) -> String? {
        func has(_ key: String) -> Bool {
            guard let value = payload[key] else { return false }
            return !value.isNull
        }
        if has("workflow_job") { return "workflow_job" }
        if has("workflow_run") && has("action") && payload["workflow_run"]?.object?["id"] != nil && !has("deployment") {
            return "workflow_run"
        }
        if has("deployment_status") { return "deployment_status" }
        if has("deployment") { return "deployment" }
        if has("registry_package") { return "registry_package" }
        if has("package") { return "package" }
        if has("pusher") && has("commits") && has("after") { return "push" }
        if has("ref_type") && has("master_branch") { return "create" }
        if has("ref_type") { return "delete" }
        if has("inputs") && has("workflow") { return "workflow_dispatch" }
        return nil
    }

    /// The kinds of GitHub event that record a pipeline change; every other kind is ignored.
    static let readKinds: Set<String> = [
        "push", "workflow_run", "workflow_job", "create", "deployment", "deployment_status", "registry_package", "package",
    ]

    func normalize(_ kind: String, _ payload: JSON) throws(AdapterError) -> AdapterOutcome {
        // Decided before anything is required of the payload: many kinds (installation, sponsorship,
        // an organization's ping) have no repository at all.
        guard Self.readKinds.contains(kind) else {
            return .ignored("GitHub \(kind) events are not pipeline changes shiplog records")
        }
        guard let repository = payload.text("repository", "full_name") ?? Self.packageRepository(payload) else {
            throw AdapterError("repository.full_name: required")
        }
        let sender = payload.text("sender", "login")
        switch kind {
        case "push": return .events([try push(payload, repository: repository, sender: sender)])
        case "workflow_run": return try workflowRun(payload, repository: repository)
        case "workflow_job": return .events([try workflowJob(payload, repository: repository, sender: sender)])
        case "create": return .events([try create(payload, repository: repository, sender: sender)])
        case "deployment": return .events([try deployment(payload, repository: repository)])
        case "deployment_status": return .events([try deploymentStatus(payload, repository: repository)])
        case "registry_package", "package": return try package(payload, kind: kind, sender: sender)
        default:
            return .ignored("GitHub \(kind) events are not pipeline changes shiplog records")
        }
    }

    private func push(_ payload: JSON, repository: String, sender: String?) throws(AdapterError) -> NewEvent {
        guard let ref = payload.text("ref"), let after = payload.text("after") else { throw AdapterError("push: ref and after are required") }
        let before = payload.text("before")
        let deleted = payload["deleted"]?.bool ?? (after.allSatisfy { $0 == "0" })
        var fields = Fields()
        fields.set("repository", repository)
        fields.set("ref", ref)
        fields.set("before", before.flatMap(Self.sha))
        fields.set("after", Self.sha(after))
        if !deleted { fields.set("commit", Self.sha(after)) }
        fields.set("deleted", deleted)
        fields.set("created", payload["created"]?.bool)
        fields.set("forced", payload["forced"]?.bool)
        fields.set("actor", payload.text("pusher", "name") ?? sender)
        var commits: [JSON] = []
        for commit in try payload.list("commits") {
            guard let id = commit.text("id").flatMap(Self.sha) else { throw AdapterError("commits[].id: not a commit sha") }
            var entry = Fields()
            entry.set("sha", id)
            entry.set("time", commit.time("timestamp"))
            entry.set("author", commit.text("author", "username") ?? commit.text("author", "name"))
            entry.set("message", commit.text("message").map(Self.firstLine))
            commits.append(.object(entry.object))
        }
        fields["commits"] = .array(commits)
        if fields["commits"] == nil { fields.object["commits"] = .array([]) }
        // GitHub puts the push time in repository.pushed_at (epoch seconds in push payloads).
        guard let time = payload.time("repository", "pushed_at") ?? payload.time("head_commit", "timestamp")
            ?? commits.compactMap({ $0.time("time") }).max()
        else { throw AdapterError("push: no time (repository.pushed_at or a commit timestamp)") }
        let id = "github:push:\(repository):\(ref):\(before ?? "")..\(after)"
        return NewEvent(id: id, type: "git.push", time: time, data: fields.object)
    }

    private func workflowRun(_ payload: JSON, repository: String) throws(AdapterError) -> AdapterOutcome {
        guard let run = payload["workflow_run"], let runID = run.text("id"), let action = payload.text("action") else {
            throw AdapterError("workflow_run: workflow_run.id and action are required")
        }
        let type: String
        let time: Timestamp?
        switch action {
        case "requested":
            type = "build.requested"
            time = run.time("created_at")
        case "in_progress":
            type = "build.started"
            time = run.time("run_started_at") ?? run.time("updated_at")
        case "completed":
            type = "build.completed"
            time = run.time("updated_at")
        default:
            return .ignored("GitHub workflow_run action \(action) is not a build state")
        }
        guard let time else { throw AdapterError("workflow_run: no time for action \(action)") }
        let attempt = run.integer("run_attempt") ?? 1
        var fields = Fields()
        fields.set("repository", repository)
        fields.set("runId", runID)
        fields.set("attempt", attempt)
        fields.set("workflow", run.text("name") ?? payload.text("workflow", "name"))
        fields.set("commit", run.text("head_sha").flatMap(Self.sha))
        fields.set("branch", run.text("head_branch"))
        fields.set("event", run.text("event"))
        fields.set("url", run.text("html_url"))
        fields.set("actor", run.text("triggering_actor", "login") ?? run.text("actor", "login") ?? payload.text("sender", "login"))
        fields.set("startedAt", run.time("run_started_at"))
        if type == "build.completed" {
            guard let conclusion = run.text("conclusion") else { throw AdapterError("workflow_run.conclusion: required when completed") }
            fields.set("conclusion", conclusion)
        }
        let id = "github:workflow_run:\(runID):\(attempt):\(action)"
        return .events([NewEvent(id: id, type: type, time: time, data: fields.object)])
    }

    private func workflowJob(_ payload: JSON, repository: String, sender: String?) throws(AdapterError) -> NewEvent {
        guard let job = payload["workflow_job"], let jobID = job.text("id"), let runID = job.text("run_id"),
            let status = job.text("status")
        else { throw AdapterError("workflow_job: id, run_id and status are required") }
        let time: Timestamp?
        switch status {
        case "completed": time = job.time("completed_at") ?? job.time("started_at")
        case "in_progress": time = job.time("started_at")
        default: time = job.time("created_at") ?? job.time("started_at")
        }
        guard let time else { throw AdapterError("workflow_job: no time for status \(status)") }
        var fields = Fields()
        fields.set("repository", repository)
        fields.set("runId", runID)
        fields.set("attempt", job.integer("run_attempt"))
        fields.set("jobId", jobID)
        fields.set("name", job.text("name"))
        fields.set("status", status)
        fields.set("conclusion", job.text("conclusion"))
        fields.set("workflow", job.text("workflow_name"))
        fields.set("commit", job.text("head_sha").flatMap(Self.sha))
        fields.set("branch", job.text("head_branch"))
        fields.set("url", job.text("html_url"))
        fields.set("actor", sender)
        fields.set("environment", payload.text("deployment", "environment"))
        let id = "github:workflow_job:\(jobID):\(job.integer("run_attempt") ?? 1):\(payload.text("action") ?? status)"
        return NewEvent(id: id, type: "build.job", time: time, data: fields.object)
    }

    private func create(_ payload: JSON, repository: String, sender: String?) throws(AdapterError) -> NewEvent {
        guard let ref = payload.text("ref"), let refType = payload.text("ref_type") else {
            throw AdapterError("create: ref and ref_type are required")
        }
        guard refType == "tag" || refType == "branch" else { throw AdapterError("create: ref_type \(refType) is neither tag nor branch") }
        guard let time = payload.time("repository", "pushed_at") ?? payload.time("repository", "updated_at") else {
            throw AdapterError("create: no time (repository.pushed_at)")
        }
        var fields = Fields()
        fields.set("repository", repository)
        fields.set("ref", ref)
        fields.set("refType", refType)
        fields.set("actor", sender)
        return NewEvent(id: "github:create:\(repository):\(refType):\(ref)", type: "git.ref_created", time: time, data: fields.object)
    }

    private func deployment(_ payload: JSON, repository: String) throws(AdapterError) -> NewEvent {
        guard let deployment = payload["deployment"], let id = deployment.text("id"),
            let time = deployment.time("created_at")
        else { throw AdapterError("deployment: id and created_at are required") }
        var fields = Fields()
        fields.set("repository", repository)
        fields.set("deploymentId", id)
        fields.set("environment", deployment.text("environment"))
        fields.set("commit", deployment.text("sha").flatMap(Self.sha))
        fields.set("ref", deployment.text("ref"))
        fields.set("task", deployment.text("task"))
        fields.set("actor", deployment.text("creator", "login") ?? payload.text("sender", "login"))
        return NewEvent(id: "github:deployment:\(id)", type: "github.deployment", time: time, data: fields.object)
    }

    private func deploymentStatus(_ payload: JSON, repository: String) throws(AdapterError) -> NewEvent {
        guard let status = payload["deployment_status"], let statusID = status.text("id"), let state = status.text("state"),
            let deploymentID = payload.text("deployment", "id"),
            let time = status.time("created_at") ?? status.time("updated_at")
        else { throw AdapterError("deployment_status: deployment_status.id, state, created_at and deployment.id are required") }
        var fields = Fields()
        fields.set("repository", repository)
        fields.set("deploymentId", deploymentID)
        fields.set("state", state)
        fields.set("environment", status.text("environment") ?? payload.text("deployment", "environment"))
        fields.set("commit", payload.text("deployment", "sha").flatMap(Self.sha))
        fields.set("description", status.text("description"))
        fields.set("url", status.text("target_url") ?? status.text("log_url") ?? status.text("environment_url"))
        fields.set("actor", status.text("creator", "login") ?? payload.text("sender", "login"))
        return NewEvent(id: "github:deployment_status:\(statusID)", type: "github.deployment_status", time: time, data: fields.object)
    }

    /// A container image published to GitHub's registry: an image push to ghcr.io.
    private func package(_ payload: JSON, kind: String, sender: String?) throws(AdapterError) -> AdapterOutcome {
        guard let package = payload[kind] else { throw AdapterError("\(kind): required") }
        let kinds = [package.text("package_type"), package.text("ecosystem")].compactMap { $0?.lowercased() }
        guard kinds.contains(where: { $0 == "container" || $0 == "docker" }) else {
            return .ignored("GitHub \(kind) of type \(kinds.first ?? "unknown") is not a container image")
        }
        guard payload.text("action") == "published" || payload.text("action") == "updated" else {
            return .ignored("GitHub \(kind) action \(payload.text("action") ?? "?") does not publish an image")
        }
        guard let version = package["package_version"], let name = package.text("name") else {
            throw AdapterError("\(kind).package_version and name are required")
        }
        let namespace = package.text("namespace") ?? package.text("owner", "login") ?? payload.text("repository", "owner", "login")
        let digests = [version.text("container_metadata", "tag", "digest"), version.text("version"), version.text("name")]
        guard let digest = digests.compactMap({ $0 }).first(where: ImageReference.isDigest) else {
            throw AdapterError("\(kind).package_version: no image digest (container_metadata.tag.digest)")
        }
        // The older `package` event sends 0001-01-01 for the version's times; the package's own is real.
        let times = [version.time("created_at"), version.time("updated_at"), package.time("updated_at")]
        guard let time = times.compactMap({ $0 }).first(where: { $0.microseconds > 0 }) else {
            throw AdapterError("\(kind).package_version.created_at: required")
        }
        var fields = Fields()
        fields.set("repository", namespace.map { "\($0)/\(name)" } ?? name)
        // GitHub's container registry is ghcr.io, whatever registry.url says (it names the API host).
        fields.set("registry", "ghcr.io")
        fields.set("digest", digest)
        let tag = version.text("container_metadata", "tag", "name")
        fields.set("tags", strings: tag.map { [$0] } ?? [])
        let labels = version.at("container_metadata", "labels")
        let revision = labels?.text("revision") ?? labels?.text("all_labels", "org.opencontainers.image.revision")
            ?? labels?.text("org.opencontainers.image.revision")
        fields.set("commit", revision.flatMap(Self.sha))
        fields.set("actor", sender)
        let versionID = version.text("id") ?? digest
        return .events([NewEvent(id: "github:\(kind):\(versionID):\(tag ?? "")", type: "image.pushed", time: time, data: fields.object)])
    }

    static func packageRepository(_ payload: JSON) -> String? {
        let package = payload["registry_package"] ?? payload["package"]
        guard let name = package?.text("name") else { return nil }
        return (package?.text("namespace") ?? package?.text("owner", "login")).map { "\($0)/\(name)" } ?? name
    }

    /// A commit sha, lowercased; nil when it is not one.
    static func sha(_ text: String) -> String? {
        let lowered = text.lowercased()
        return SchemaValidator.checkFormat(lowered, "git-sha") == nil ? lowered : nil
    }

    static func firstLine(_ text: String) -> String {
        String(text.prefix { $0 != "\n" && $0 != "\r" }.prefix(500))
    }
}
