/// A commit as the log knows it.
public struct CommitInfo: Sendable {
    public var repository: String
    public var sha: String
    public var time: Timestamp?
    public var author: String?
    public var message: String?
    public var pushedAt: Timestamp?
    public var ref: String?

    public var record: JSONObject {
        [
            "repository": .string(repository), "sha": .string(sha), "time": JSON(time?.rfc3339), "author": JSON(author),
            "message": JSON(message), "pushedAt": JSON(pushedAt?.rfc3339), "ref": JSON(ref),
        ]
    }
}

/// A CI run.
public struct BuildInfo: Sendable {
    public var repository: String
    public var runID: String
    public var attempt: Int64
    public var workflow: String?
    public var commit: String?
    public var status: String
    public var conclusion: String?
    public var startedAt: Timestamp?
    public var finishedAt: Timestamp?
    public var url: String?
    public var actor: String?

    public var record: JSONObject {
        [
            "repository": .string(repository), "runId": .string(runID), "attempt": .number(String(attempt)),
            "workflow": JSON(workflow), "commit": JSON(commit), "status": .string(status), "conclusion": JSON(conclusion),
            "startedAt": JSON(startedAt?.rfc3339), "finishedAt": JSON(finishedAt?.rfc3339), "url": JSON(url), "actor": JSON(actor),
        ]
    }
}

/// An image digest in a repository, the tags that pointed at it and when, and its commit.
public struct ImageInfo: Sendable {
    public struct TagSpan: Sendable {
        public var tag: String
        public var from: Timestamp
        public var until: Timestamp?
    }

    public var repository: String
    public var registry: String?
    public var digest: String
    public var firstSeen: Timestamp?
    public var tags: [TagSpan]
    public var commit: String?
    public var commitSource: LinkSource?

    public var record: JSONObject {
        [
            "repository": .string(repository), "registry": JSON(registry), "digest": .string(digest),
            "firstSeen": JSON(firstSeen?.rfc3339),
            "tags": .array(tags.map { ["tag": .string($0.tag), "from": .string($0.from.rfc3339), "until": JSON($0.until?.rfc3339)] }),
            "commit": JSON(commit), "commitSource": JSON(commitSource?.rawValue),
        ]
    }
}

/// A task-definition revision.
public struct TaskDefinitionInfo: Sendable {
    public var taskDefinition: TaskDefinitionID
    public var status: String
    public var registeredAt: Timestamp?
    public var registeredBy: String?
    public var deregisteredAt: Timestamp?
    public var cpu: Int64?
    public var memory: Int64?
    public var containers: [ResolvedImage]
    /// The stored normalized definition (containers with env keys and secret references).
    public var definition: JSONObject?

    public var record: JSONObject {
        [
            "taskDefinition": .string(taskDefinition.description), "family": .string(taskDefinition.family),
            "revision": .number(String(taskDefinition.revision)), "status": .string(status),
            "registeredAt": JSON(registeredAt?.rfc3339), "registeredBy": JSON(registeredBy),
            "deregisteredAt": JSON(deregisteredAt?.rfc3339), "cpu": JSON(cpu), "memory": JSON(memory),
            "containers": .array(containers.map { .object($0.record) }),
        ]
    }
}

/// Everything the log links to one reference (`shiplog trace`).
public struct TraceResult: Sendable {
    public enum Kind: String, Sendable { case commit, digest, imageTag = "image-tag", taskDefinition = "task-definition" }

    public var ref: String
    public var kind: Kind
    public var commits: [CommitInfo] = []
    public var builds: [BuildInfo] = []
    public var images: [ImageInfo] = []
    public var taskDefinitions: [TaskDefinitionInfo] = []
    public var deployments: [DeploymentSummary] = []
    /// For `repository:tag` with a limit: how many older images the tag pointed at were left out.
    public var olderImagesOmitted = 0

    public var record: JSONObject {
        var record: JSONObject = [
            "ref": .string(ref), "kind": .string(kind.rawValue), "commits": .array(commits.map { .object($0.record) }),
            "builds": .array(builds.map { .object($0.record) }), "images": .array(images.map { .object($0.record) }),
            "taskDefinitions": .array(taskDefinitions.map { .object($0.record) }),
            "deployments": .array(deployments.map { .object($0.record) }),
        ]
        if olderImagesOmitted > 0 { record["olderImagesOmitted"] = .number(String(olderImagesOmitted)) }
        return record
    }
}

extension EventStore {
    /// The lineage of a commit (≥ 7 hex digits), an image digest, `repository:tag` or
    /// `family:revision`: commits, builds, images, task definitions, deployments and when each ran.
    /// `newestImages` limits a `repository:tag` trace to the images the tag pointed at last (a
    /// `latest` tag may have pointed at thousands); the result says how many were left out.
    public func trace(_ reference: String, newestImages: Int? = nil) throws -> TraceResult {
        try read { try Tracer(database: database).trace(reference, newestImages: newestImages) }
    }

    /// A task-definition revision's stored row.
    public func taskDefinition(_ revision: TaskDefinitionID) throws -> TaskDefinitionInfo? {
        try read { try Tracer(database: database).taskDefinition(revision) }
    }
}

/// Follows lineage links through the projections' indexes.
final class Tracer {
    let database: Database
    let resolver: LineageResolver
    let live: LiveWindows

    private var prepared: [String: Statement] = [:]

    init(database: Database) throws {
        self.database = database
        resolver = try LineageResolver(database: database)
        live = try LiveWindows(database: database)
    }

    /// A statement prepared once per tracer: metrics look up commits and pushes for each of tens of
    /// thousands of deployments. Callers step it to the end (or reset it) before asking again.
    private func statement(_ sql: String) throws -> Statement {
        if let statement = prepared[sql] {
            statement.reset()
            return statement
        }
        let statement = try database.prepare(sql)
        prepared[sql] = statement
        return statement
    }

    func trace(_ reference: String, newestImages: Int? = nil) throws -> TraceResult {
        let text = Substring(reference).trimmingCharacters(in: " ")
        if let at = text.firstIndex(of: "@") {
            return try traceDigest(String(text[text.index(after: at)...]), ref: text)
        }
        if ImageReference.isDigest(text) { return try traceDigest(text, ref: text) }
        if let revision = TaskDefinitionID(text), try taskDefinition(revision) != nil || !text.contains("/") && !(try tagExists(text)) {
            return try traceTaskDefinition(revision, ref: text)
        }
        if let image = ImageReference(text), let tag = image.tag, text.contains(":") {
            return try traceTag(repository: image.repository, tag: tag, ref: text, newest: newestImages)
        }
        let lowered = text.lowercased()
        if lowered.count >= 7, lowered.count <= 40, lowered.utf8.allSatisfy(SchemaValidator.isLowerHex) {
            return try traceCommit(lowered, ref: text)
        }
        throw QueryError.invalidReference(
            "cannot trace \"\(reference)\": give a commit (7+ hex digits), an image digest (sha256:…), repository:tag or family:revision")
    }

    private func tagExists(_ text: String) throws -> Bool {
        guard let image = ImageReference(text), let tag = image.tag else { return false }
        let statement = try database.prepare("SELECT 1 FROM tag_assignments WHERE repository = ? AND tag = ? LIMIT 1")
        statement.bind(1, image.repository)
        statement.bind(2, tag)
        return try statement.step()
    }

    // MARK: Commits

    private func traceCommit(_ prefix: String, ref: String) throws -> TraceResult {
        var shas = Set<String>()
        for sql in [
            "SELECT sha FROM commits WHERE sha >= ?1 AND sha < ?1 || 'g'",
            "SELECT commit_sha FROM builds WHERE commit_sha >= ?1 AND commit_sha < ?1 || 'g'",
            "SELECT commit_sha FROM images WHERE commit_sha >= ?1 AND commit_sha < ?1 || 'g'",
            "SELECT commit_sha FROM deployments WHERE commit_sha >= ?1 AND commit_sha < ?1 || 'g'",
        ] {
            let statement = try database.prepare(sql)
            statement.bind(1, prefix)
            while try statement.step() { shas.insert(statement.text(0)) }
        }
        guard !shas.isEmpty else { throw QueryError.notFound("no commit \(prefix) in the log") }
        guard shas.count == 1 else {
            throw QueryError.invalidReference("\(prefix) matches \(shas.count) commits (\(shas.sorted().prefix(5).joined(separator: ", "))): give more digits")
        }
        let sha = shas.first!
        var result = TraceResult(ref: ref, kind: .commit)
        result.commits = try commits("WHERE sha = ?1", sha)
        result.builds = try builds("WHERE commit_sha = ?1", sha)
        // The images built from it: stated, tagged with its sha, or pushed by its build.
        var digests = Set<String>()
        let stated = try database.prepare("SELECT digest FROM images WHERE commit_sha = ?")
        stated.bind(1, sha)
        while try stated.step() { digests.insert(stated.text(0)) }
        let tags = (7...40).map { String(sha.prefix($0)) } + (7...12).map { "sha-" + String(sha.prefix($0)) }
        let tagged = try database.prepare(
            "SELECT DISTINCT digest FROM tag_assignments WHERE tag IN (\(tags.map { "'\($0)'" }.joined(separator: ",")))")
        while try tagged.step() { if let digest = tagged.optionalText(0) { digests.insert(digest) } }
        let built = try database.prepare(
            "SELECT i.digest FROM images i JOIN builds b ON b.run_id = i.run_id WHERE b.commit_sha = ?")
        built.bind(1, sha)
        while try built.step() { digests.insert(built.text(0)) }
        // Keep the images whose commit resolves to this one (a tag may have moved since).
        for digest in digests.sorted() {
            for image in try images(digest: digest) where image.commit == sha { result.images.append(image) }
        }
        try addRuntime(to: &result, digests: Set(result.images.map(\.digest)), commit: sha)
        return result
    }

    // MARK: Digests and tags

    private func traceDigest(_ digest: String, ref: String) throws -> TraceResult {
        guard ImageReference.isDigest(digest) else { throw QueryError.invalidReference("\(digest) is not an image digest") }
        var result = TraceResult(ref: ref, kind: .digest)
        result.images = try images(digest: digest)
        try addRuntime(to: &result, digests: [digest], commit: nil)
        guard !result.images.isEmpty || !result.deployments.isEmpty || !result.taskDefinitions.isEmpty else {
            throw QueryError.notFound("no image \(digest) in the log")
        }
        try addSources(to: &result)
        return result
    }

    private func traceTag(repository: String, tag: String, ref: String, newest: Int?) throws -> TraceResult {
        var result = TraceResult(ref: ref, kind: .imageTag)
        let statement = try database.prepare(
            """
            SELECT digest FROM tag_assignments WHERE repository = ? AND tag = ? AND digest IS NOT NULL
            GROUP BY digest ORDER BY max(time) DESC
            """)
        statement.bind(1, repository)
        statement.bind(2, tag)
        var digests: [String] = []
        while try statement.step() {
            if let newest, digests.count >= newest {
                result.olderImagesOmitted += 1
            } else {
                digests.append(statement.text(0))
            }
        }
        guard !digests.isEmpty else { throw QueryError.notFound("the tag \(repository):\(tag) never pointed at an image in the log") }
        for digest in digests {
            result.images += try images(digest: digest).filter { $0.repository == repository }
        }
        // Every digest the tag ever pointed at, in the order it pointed at them.
        result.images.sort { ($0.tags.first { $0.tag == tag }?.from ?? $0.firstSeen ?? Timestamp(microseconds: 0))
            < ($1.tags.first { $0.tag == tag }?.from ?? $1.firstSeen ?? Timestamp(microseconds: 0)) }
        try addRuntime(to: &result, digests: Set(digests), commit: nil)
        try addSources(to: &result)
        return result
    }

    /// The commits and builds behind the images found.
    private func addSources(to result: inout TraceResult) throws {
        for sha in Set(result.images.compactMap(\.commit)).sorted() {
            result.commits += try commits("WHERE sha = ?1", sha)
            result.builds += try builds("WHERE commit_sha = ?1", sha)
        }
    }

    /// Task definitions that ran these digests and the deployments that ran them.
    private func addRuntime(to result: inout TraceResult, digests: Set<String>, commit: String?) throws {
        var candidates = Set<String>()  // "cluster\u{0}service\u{0}key"
        func add(_ statement: Statement) throws {
            while try statement.step() {
                candidates.insert([statement.text(0), statement.text(1), statement.text(2)].joined(separator: "\u{0}"))
            }
        }
        let reported = try database.prepare("SELECT cluster, service, key FROM deployment_digests WHERE digest = ?")
        // Deployments of revisions that pin it…
        let pinned = try database.prepare(
            """
            SELECT DISTINCT d.cluster, d.service, d.key FROM taskdef_containers c
            JOIN deployments d ON d.family = c.family AND d.revision = c.revision WHERE c.digest = ?1
            """)
        // …or name a tag that pointed at it when they started: for each span of a tag on the digest,
        // the deployments started in the span of revisions naming that tag. A tag few revisions
        // name (a sha tag: none) is looked up by revision; one many name (latest) by the span.
        let spans = try database.prepare(
            """
            SELECT t.repository, t.tag, t.time,
                   coalesce((SELECT min(n.time) FROM tag_assignments n
                             WHERE n.repository = t.repository AND n.tag = t.tag AND n.time > t.time
                               AND (n.digest IS NULL OR n.digest <> ?1)), 9223372036854775807)
            FROM tag_assignments t WHERE t.digest = ?1
            """)
        let naming = try database.prepare("SELECT count(*) FROM taskdef_containers WHERE repository = ? AND tag = ?")
        let byRevision = try database.prepare(
            """
            SELECT d.cluster, d.service, d.key FROM taskdef_containers c
            JOIN deployments d ON d.family = c.family AND d.revision = c.revision
            WHERE c.repository = ?1 AND c.tag = ?2 AND d.started_at >= ?3 AND d.started_at < ?4
            """)
        let bySpan = try database.prepare(
            """
            SELECT d.cluster, d.service, d.key FROM deployments d WHERE d.started_at >= ?3 AND d.started_at < ?4
              AND EXISTS (SELECT 1 FROM taskdef_containers c WHERE c.family = d.family AND c.revision = d.revision
                            AND c.repository = ?1 AND c.tag = ?2)
            """)
        var revisionsNaming: [String: Int64] = [:]
        func tagged(_ digest: String) throws {
            spans.reset()
            spans.bind(1, digest)
            var found: [(String, String, Int64, Int64)] = []
            while try spans.step() { found.append((spans.text(0), spans.text(1), spans.int(2), spans.int(3))) }
            spans.reset()
            for (repository, tag, from, until) in found {
                let key = repository + ":" + tag
                if revisionsNaming[key] == nil {
                    naming.reset()
                    naming.bind(1, repository)
                    naming.bind(2, tag)
                    revisionsNaming[key] = try naming.step() ? naming.int(0) : 0
                    naming.reset()
                }
                let count = revisionsNaming[key]!
                guard count > 0 else { continue }
                let statement = count <= 64 ? byRevision : bySpan
                statement.reset()
                statement.bind(1, repository)
                statement.bind(2, tag)
                statement.bind(3, from)
                statement.bind(4, until)
                try add(statement)
            }
        }
        for digest in digests.sorted() {
            for statement in [reported, pinned] {
                statement.reset()
                statement.bind(1, digest)
                try add(statement)
            }
            try tagged(digest)
        }
        if let commit {
            let stated = try database.prepare("SELECT cluster, service, key FROM deployments WHERE commit_sha = ?")
            stated.bind(1, commit)
            try add(stated)
        }
        // A rollback to a deployment that ran it ran it too.
        let rollbacks = try database.prepare(
            "SELECT cluster, service, key FROM deployments WHERE cluster = ? AND service = ? AND rollback_to = ?")
        for candidate in Array(candidates) {
            let parts = candidate.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
            rollbacks.reset()
            rollbacks.bind(1, parts[0])
            rollbacks.bind(2, parts[1])
            rollbacks.bind(3, parts[2])
            try add(rollbacks)
        }
        let select = try database.prepare(
            """
            SELECT key, deployment_id, family, revision, taskdef_inferred, started_at, finished_at, status, actor, reason,
                   trigger, rollback_to, rolled_back_by, rollback_request, commit_sha, images
            FROM deployments WHERE cluster = ? AND service = ? AND key = ?
            """)
        var revisions = Set<TaskDefinitionID>()
        for candidate in candidates.sorted() {
            let parts = candidate.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
            select.reset()
            select.bind(1, parts[0])
            select.bind(2, parts[1])
            select.bind(3, parts[2])
            guard try select.step() else { continue }
            let summary = try EventStore.summary(select, cluster: parts[0], service: parts[1], resolver: resolver, live: live)
            // Keep it only if, resolved, it really ran one of the digests (or states the commit).
            guard summary.images.contains(where: { $0.digest.map(digests.contains) ?? false })
                || (commit != nil && summary.commit == commit)
            else { continue }
            result.deployments.append(summary)
            if let revision = summary.taskDefinition { revisions.insert(revision) }
        }
        result.deployments.sort { ($0.startedAt ?? Timestamp(microseconds: 0)) > ($1.startedAt ?? Timestamp(microseconds: 0)) }
        let pinning = try database.prepare("SELECT DISTINCT family, revision FROM taskdef_containers WHERE digest = ?")
        for digest in digests {
            pinning.reset()
            pinning.bind(1, digest)
            while try pinning.step() { revisions.insert(TaskDefinitionID(family: pinning.text(0), revision: Int(pinning.int(1)))) }
        }
        result.taskDefinitions = try revisions.sorted().compactMap { try taskDefinition($0) }
    }

    // MARK: Task definitions

    private func traceTaskDefinition(_ revision: TaskDefinitionID, ref: String) throws -> TraceResult {
        var result = TraceResult(ref: ref, kind: .taskDefinition)
        guard let info = try taskDefinition(revision) else {
            throw QueryError.notFound("no task definition \(revision) in the log")
        }
        result.taskDefinitions = [info]
        let statement = try database.prepare(
            """
            SELECT key, deployment_id, family, revision, taskdef_inferred, started_at, finished_at, status, actor, reason,
                   trigger, rollback_to, rolled_back_by, rollback_request, commit_sha, images, cluster, service
            FROM deployments WHERE family = ? AND revision = ? ORDER BY coalesce(started_at, finished_at) DESC
            """)
        statement.bind(1, revision.family)
        statement.bind(2, Int64(revision.revision))
        while try statement.step() {
            result.deployments.append(try EventStore.summary(
                statement, cluster: statement.text(16), service: statement.text(17), resolver: resolver, live: live))
        }
        var digests = Set(info.containers.compactMap(\.digest))
        for deployment in result.deployments { digests.formUnion(deployment.images.compactMap(\.digest)) }
        for digest in digests.sorted() { result.images += try images(digest: digest) }
        try addSources(to: &result)
        for sha in Set(result.deployments.compactMap(\.commit)) where !result.commits.contains(where: { $0.sha == sha }) {
            result.commits += try commits("WHERE sha = ?1", sha)
            result.builds += try builds("WHERE commit_sha = ?1", sha)
        }
        return result
    }

    /// The commits after `from` up to and including `to`, oldest first, following the pushes in
    /// the log back from `to`; nil when they do not lead back to `from`.
    func commitsBetween(from: String, to: String) throws -> [CommitInfo]? {
        if from == to { return [] }
        guard let head = try commits("WHERE sha = ?1", to).first else { return nil }
        let push = try statement(
            "SELECT before_sha, commits FROM pushes WHERE repository = ? AND after_sha = ? ORDER BY time LIMIT 1")
        var collected: [String] = []
        var cursor = to
        var reached = false
        for _ in 0..<10_000 where !reached {
            push.reset()
            push.bind(1, head.repository)
            push.bind(2, cursor)
            guard try push.step() else { return nil }
            let shas = (try? JSONParser.parse(push.text(1)).array)?.compactMap(\.string) ?? []
            let before = push.optionalText(0)
            push.reset()
            if let index = shas.firstIndex(of: from) {
                collected.insert(contentsOf: shas[(index + 1)...], at: 0)
                reached = true
                continue
            }
            collected.insert(contentsOf: shas, at: 0)
            guard let before, before != cursor else { return nil }
            reached = before == from
            cursor = before
        }
        guard reached else { return nil }
        return try collected.flatMap { try commits("WHERE sha = ?1", $0).prefix(1) }
    }

    /// The most recent deployment of a revision, in any service.
    func latestDeployment(of revision: TaskDefinitionID) throws -> DeploymentSummary? {
        let statement = try database.prepare(
            """
            SELECT key, deployment_id, family, revision, taskdef_inferred, started_at, finished_at, status, actor, reason,
                   trigger, rollback_to, rolled_back_by, rollback_request, commit_sha, images, cluster, service
            FROM deployments WHERE family = ? AND revision = ? ORDER BY coalesce(started_at, finished_at) DESC LIMIT 1
            """)
        statement.bind(1, revision.family)
        statement.bind(2, Int64(revision.revision))
        guard try statement.step() else { return nil }
        return try EventStore.summary(statement, cluster: statement.text(16), service: statement.text(17), resolver: resolver, live: live)
    }

    func taskDefinition(_ revision: TaskDefinitionID) throws -> TaskDefinitionInfo? {
        let statement = try database.prepare(
            """
            SELECT status, registered_at, registered_by, deregistered_at, cpu, memory, defined_at, event_id
            FROM taskdefs WHERE family = ? AND revision = ?
            """)
        statement.bind(1, revision.family)
        statement.bind(2, Int64(revision.revision))
        guard try statement.step() else { return nil }
        let containers = try resolver.images(of: revision, reported: [:], startedAt: nil, asOf: Int64.max)
        return TaskDefinitionInfo(
            taskDefinition: revision, status: statement.text(0), registeredAt: statement.optionalInt(1).map { Timestamp(microseconds: $0) },
            registeredBy: statement.optionalText(2), deregisteredAt: statement.optionalInt(3).map { Timestamp(microseconds: $0) },
            cpu: statement.optionalInt(4), memory: statement.optionalInt(5), containers: containers,
            definition: statement.isNull(6) ? nil : try eventData(id: statement.text(7)))
    }

    /// The normalized data of a stored event, by id (a task definition's, for one).
    func eventData(id: String) throws -> JSONObject? {
        let statement = try statement(
            """
            SELECT e.data, e.data_length, d.dictionary_id FROM events e JOIN documents d ON d.id = e.document_id
            WHERE e.event_id = ?
            """)
        statement.bind(1, id)
        guard try statement.step() else { return nil }
        var loader = DocumentLoader(database: database)
        let bytes = try loader.data(statement, column: 0)
        statement.reset()
        return try JSONParser.parse(bytes).object
    }

    // MARK: Rows

    func images(digest: String) throws -> [ImageInfo] {
        let statement = try database.prepare(
            "SELECT repository, registry, first_seen FROM images WHERE digest = ? ORDER BY first_seen, repository")
        statement.bind(1, digest)
        var images: [ImageInfo] = []
        while try statement.step() {
            var image = ImageInfo(
                repository: statement.text(0), registry: statement.optionalText(1), digest: digest,
                firstSeen: Timestamp(microseconds: statement.int(2)), tags: [])
            image.tags = try tagSpans(repository: image.repository, digest: digest)
            if let (commit, source) = try resolver.commit(forDigest: digest, repository: image.repository, at: Int64.max) {
                image.commit = commit
                image.commitSource = source
            }
            images.append(image)
        }
        return images
    }

    /// When each tag pointed at the digest: from an assignment to it until the tag moved elsewhere
    /// (assignments of the same digest in a row — a push seen by ECR and CloudTrail — are one span).
    /// Two index lookups per assignment, however many digests the tag pointed at over time.
    private func tagSpans(repository: String, digest: String) throws -> [ImageInfo.TagSpan] {
        let assignments = try database.prepare(
            "SELECT tag, time FROM tag_assignments WHERE repository = ? AND digest = ? ORDER BY tag, time, event_id")
        let moved = try database.prepare(
            """
            SELECT min(time) FROM tag_assignments
            WHERE repository = ?1 AND tag = ?2 AND time > ?3 AND (digest IS NULL OR digest <> ?4)
            """)
        assignments.bind(1, repository)
        assignments.bind(2, digest)
        var spans: [ImageInfo.TagSpan] = []
        while try assignments.step() {
            let tag = assignments.text(0)
            let time = assignments.int(1)
            // Within a span already found (a repeated assignment of the same digest): nothing new.
            if let last = spans.last, last.tag == tag, last.until.map({ time < $0.microseconds }) ?? true { continue }
            moved.reset()
            moved.bind(1, repository)
            moved.bind(2, tag)
            moved.bind(3, time)
            moved.bind(4, digest)
            let until = try moved.step() ? moved.optionalInt(0) : nil
            spans.append(ImageInfo.TagSpan(tag: tag, from: Timestamp(microseconds: time), until: until.map { Timestamp(microseconds: $0) }))
        }
        return spans.sorted { ($0.from, $0.tag) < ($1.from, $1.tag) }
    }

    func commits(_ condition: String, _ value: String) throws -> [CommitInfo] {
        let statement = try statement(
            "SELECT repository, sha, time, author, message, pushed_at, ref FROM commits \(condition) ORDER BY pushed_at")
        statement.bind(1, value)
        var commits: [CommitInfo] = []
        while try statement.step() {
            commits.append(CommitInfo(
                repository: statement.text(0), sha: statement.text(1), time: statement.optionalInt(2).map { Timestamp(microseconds: $0) },
                author: statement.optionalText(3), message: statement.optionalText(4),
                pushedAt: Timestamp(microseconds: statement.int(5)), ref: statement.optionalText(6)))
        }
        return commits
    }

    func builds(_ condition: String, _ value: String) throws -> [BuildInfo] {
        let statement = try database.prepare(
            """
            SELECT repository, run_id, attempt, workflow, commit_sha, status, conclusion, coalesce(started_at, requested_at),
                   finished_at, url, actor
            FROM builds \(condition) ORDER BY coalesce(started_at, requested_at, finished_at)
            """)
        statement.bind(1, value)
        var builds: [BuildInfo] = []
        while try statement.step() {
            builds.append(BuildInfo(
                repository: statement.text(0), runID: statement.text(1), attempt: statement.int(2), workflow: statement.optionalText(3),
                commit: statement.optionalText(4), status: statement.text(5), conclusion: statement.optionalText(6),
                startedAt: statement.optionalInt(7).map { Timestamp(microseconds: $0) },
                finishedAt: statement.optionalInt(8).map { Timestamp(microseconds: $0) }, url: statement.optionalText(9),
                actor: statement.optionalText(10)))
        }
        return builds
    }
}
