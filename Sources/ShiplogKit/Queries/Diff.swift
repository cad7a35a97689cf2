/// What changed between two task-definition revisions, or two deployments of a service
/// (`shiplog diff`).
public struct RevisionDiff: Sendable {
    public struct Side: Sendable {
        public var taskDefinition: TaskDefinitionID
        public var deployment: DeploymentSummary?
        public var images: [ResolvedImage]
        public var cpu: Int64?
        public var memory: Int64?
        public var commit: String?

        var record: JSONObject {
            [
                "taskDefinition": .string(taskDefinition.description), "deploymentId": JSON(deployment?.deploymentID ?? deployment?.key),
                "commit": JSON(commit), "cpu": JSON(cpu), "memory": JSON(memory),
                "images": .array(images.map { .object($0.record) }),
            ]
        }
    }

    public struct ContainerChange: Sendable {
        public var name: String
        public var change: String  // added, removed, image, digest, unchanged
        public var fromImage: String?
        public var toImage: String?
        public var fromDigest: String?
        public var toDigest: String?
    }

    public var from: Side
    public var to: Side
    public var containers: [ContainerChange] = []
    /// `container.NAME` keys of environment variables (their values are never stored).
    public var environmentAdded: [String] = []
    public var environmentRemoved: [String] = []
    /// Secret references (`valueFrom`) added, removed, or pointing elsewhere.
    public var secretsAdded: [String] = []
    public var secretsRemoved: [String] = []
    public var secretsChanged: [String] = []
    /// The commits between the two, oldest first (from the pushes in the log).
    public var commits: [CommitInfo] = []
    /// Why the commits between could not be listed, when they could not.
    public var commitsUnknownReason: String?

    /// Whether anything but the commit differs.
    public var hasChanges: Bool {
        containers.contains { $0.change != "unchanged" } || !environmentAdded.isEmpty || !environmentRemoved.isEmpty
            || !secretsAdded.isEmpty || !secretsRemoved.isEmpty || !secretsChanged.isEmpty || from.cpu != to.cpu
            || from.memory != to.memory
    }

    public var record: JSONObject {
        [
            "from": .object(from.record), "to": .object(to.record),
            "containers": .array(containers.map {
                [
                    "name": .string($0.name), "change": .string($0.change), "fromImage": JSON($0.fromImage), "toImage": JSON($0.toImage),
                    "fromDigest": JSON($0.fromDigest), "toDigest": JSON($0.toDigest),
                ]
            }),
            "environment": ["added": JSON(environmentAdded), "removed": JSON(environmentRemoved)],
            "secrets": ["added": JSON(secretsAdded), "removed": JSON(secretsRemoved), "changed": JSON(secretsChanged)],
            "cpu": ["from": JSON(from.cpu), "to": JSON(to.cpu)], "memory": ["from": JSON(from.memory), "to": JSON(to.memory)],
            "commits": .array(commits.map { .object($0.record) }), "commitsUnknownReason": JSON(commitsUnknownReason),
        ]
    }
}

extension EventStore {
    /// Compares two revisions (`family:A`, `family:B`); the digests and commits are those of each
    /// revision's latest deployment, when it was deployed.
    public func diff(_ from: TaskDefinitionID, _ to: TaskDefinitionID) throws -> RevisionDiff {
        try read {
            let tracer = try Tracer(database: database)
            let old = try tracer.latestDeployment(of: from)
            let new = try tracer.latestDeployment(of: to)
            return try Self.diff(tracer, side(tracer, from, deployment: old), side(tracer, to, deployment: new))
        }
    }

    /// Compares two deployments of a service, each named by its revision (`7`, `family:7`) or its
    /// deployment id; a revision means its latest deployment in that service.
    public func diff(cluster: String, service: String, from: String, to: String) throws -> RevisionDiff {
        let deployments = try history(cluster: cluster, service: service)
        func pick(_ reference: String) throws -> DeploymentSummary {
            if let match = deployments.first(where: { $0.deploymentID == reference || $0.key == reference }) { return match }
            let revision = TaskDefinitionID(reference) ?? Int(reference).flatMap { number in
                deployments.compactMap(\.taskDefinition).first.map { TaskDefinitionID(family: $0.family, revision: number) }
            }
            if let revision, let match = deployments.first(where: { $0.taskDefinition == revision }) { return match }
            throw QueryError.notFound("\(cluster)/\(service) has no deployment of \(reference)")
        }
        let old = try pick(from)
        let new = try pick(to)
        guard let oldRevision = old.taskDefinition, let newRevision = new.taskDefinition else {
            throw QueryError.notFound("the revision of a deployment is unknown; diff the revisions by family:revision")
        }
        return try read {
            let tracer = try Tracer(database: database)
            return try Self.diff(tracer, side(tracer, oldRevision, deployment: old), side(tracer, newRevision, deployment: new))
        }
    }

    private func side(_ tracer: Tracer, _ revision: TaskDefinitionID, deployment: DeploymentSummary?) throws
        -> (RevisionDiff.Side, TaskDefinitionInfo?)
    {
        let info = try tracer.taskDefinition(revision)
        guard info != nil || deployment != nil else { throw QueryError.notFound("no task definition \(revision) in the log") }
        let images = deployment?.images ?? info?.containers ?? []
        let commit = deployment?.commit ?? images.compactMap(\.commit).first
        let side = RevisionDiff.Side(
            taskDefinition: revision, deployment: deployment, images: images, cpu: info?.cpu, memory: info?.memory, commit: commit)
        return (side, info)
    }

    private static func diff(
        _ tracer: Tracer, _ from: (RevisionDiff.Side, TaskDefinitionInfo?), _ to: (RevisionDiff.Side, TaskDefinitionInfo?)
    ) throws -> RevisionDiff {
        var diff = RevisionDiff(from: from.0, to: to.0)
        let oldImages = Dictionary(from.0.images.map { ($0.container, $0) }, uniquingKeysWith: { first, _ in first })
        let newImages = Dictionary(to.0.images.map { ($0.container, $0) }, uniquingKeysWith: { first, _ in first })
        for name in Set(oldImages.keys).union(newImages.keys).sorted() {
            let old = oldImages[name]
            let new = newImages[name]
            let change: String
            if old == nil { change = "added" } else if new == nil { change = "removed" } else if old?.image != new?.image {
                change = "image"
            } else if old?.digest != new?.digest { change = "digest" } else { change = "unchanged" }
            diff.containers.append(RevisionDiff.ContainerChange(
                name: name, change: change, fromImage: old?.image, toImage: new?.image, fromDigest: old?.digest, toDigest: new?.digest))
        }
        let (oldEnvironment, oldSecrets) = Self.environment(from.1?.definition)
        let (newEnvironment, newSecrets) = Self.environment(to.1?.definition)
        diff.environmentAdded = newEnvironment.subtracting(oldEnvironment).sorted()
        diff.environmentRemoved = oldEnvironment.subtracting(newEnvironment).sorted()
        diff.secretsAdded = Set(newSecrets.keys).subtracting(oldSecrets.keys).sorted()
        diff.secretsRemoved = Set(oldSecrets.keys).subtracting(newSecrets.keys).sorted()
        diff.secretsChanged = Set(oldSecrets.keys).intersection(newSecrets.keys).filter { oldSecrets[$0] != newSecrets[$0] }.sorted()
        if let old = from.0.commit, let new = to.0.commit {
            if let between = try tracer.commitsBetween(from: old, to: new) {
                diff.commits = between
            } else {
                diff.commitsUnknownReason = "the pushes in the log do not lead from \(new.prefix(7)) back to \(old.prefix(7))"
            }
        } else {
            diff.commitsUnknownReason = from.0.commit == nil ? "the older revision's commit is unknown" : "the newer revision's commit is unknown"
        }
        return diff
    }

    /// `container.KEY` names of environment variables, and `container.NAME` → valueFrom of secrets.
    private static func environment(_ definition: JSONObject?) -> (Set<String>, [String: String]) {
        var keys = Set<String>()
        var secrets: [String: String] = [:]
        for container in definition?["containers"]?.array ?? [] {
            let name = container["name"]?.string ?? "?"
            for key in container["envKeys"]?.array ?? [] { if let key = key.string { keys.insert("\(name).\(key)") } }
            for secret in container["secrets"]?.array ?? [] {
                if let key = secret["name"]?.string { secrets["\(name).\(key)"] = secret["valueFrom"]?.string ?? "" }
            }
        }
        return (keys, secrets)
    }
}

extension RevisionDiff {
    /// One row per change: what, name, from, to (the table and the CSV).
    public var rows: [[String]] {
        let diff = self
        var rows: [[String]] = []
        for container in diff.containers where container.change != "unchanged" || container.fromDigest != nil {
            rows.append(["image", container.name + (container.change == "unchanged" ? "" : " (\(container.change))"),
                         [container.fromImage.map(Abbreviate.image), container.fromDigest.map(Abbreviate.digest)].compactMap { $0 }
                             .joined(separator: " @"),
                         [container.toImage.map(Abbreviate.image), container.toDigest.map(Abbreviate.digest)].compactMap { $0 }
                             .joined(separator: " @")])
        }
        for key in diff.environmentAdded { rows.append(["env", key, "-", "added"]) }
        for key in diff.environmentRemoved { rows.append(["env", key, "removed", "-"]) }
        for key in diff.secretsAdded { rows.append(["secret", key, "-", "added"]) }
        for key in diff.secretsRemoved { rows.append(["secret", key, "removed", "-"]) }
        for key in diff.secretsChanged { rows.append(["secret", key, "valueFrom", "changed"]) }
        if diff.from.cpu != diff.to.cpu { rows.append(["cpu", "", diff.from.cpu.map(String.init) ?? "-", diff.to.cpu.map(String.init) ?? "-"]) }
        if diff.from.memory != diff.to.memory {
            rows.append(["memory", "", diff.from.memory.map(String.init) ?? "-", diff.to.memory.map(String.init) ?? "-"])
        }
        rows.append(["commit", "", diff.from.commit.map(Abbreviate.commit) ?? "?", diff.to.commit.map(Abbreviate.commit) ?? "?"])
        for commit in diff.commits {
            rows.append(["change", Abbreviate.commit(commit.sha), commit.author ?? "", commit.message ?? ""])
        }
        return rows
    }
}
