/// A deployment as a rollback plan names it.
public struct PlannedRevision: Sendable {
    public var taskDefinition: TaskDefinitionID
    public var deploymentID: String?
    public var commit: String?
    public var deployedAt: Timestamp?

    public var record: JSONObject {
        [
            "taskDefinition": .string(taskDefinition.description), "revision": .number(String(taskDefinition.revision)),
            "commit": JSON(commit), "deployedAt": JSON(deployedAt?.rfc3339), "deploymentId": JSON(deploymentID),
        ]
    }
}

/// The task-definition JSON to register again when the target revision was deregistered.
public struct ReRegistration: Sendable {
    /// `aws ecs register-task-definition --cli-input-json` input.
    public var input: JSON
    /// Where the stored definition lacks a value (redacted secrets, environment values): JSON paths.
    public var fillIn: [String]
    /// Which stored document it was rebuilt from.
    public var source: String
}

/// `shiplog rollback`: what to roll back to and the exact command, with every candidate passed
/// over and why.
public struct RollbackPlan: Sendable {
    public struct Skipped: Sendable {
        public var taskDefinition: String
        public var deploymentID: String?
        public var reason: String
    }

    public var cluster: String
    public var service: String
    public var current: PlannedRevision
    public var target: PlannedRevision
    public var skipped: [Skipped]
    public var commands: [String]
    public var reRegistration: ReRegistration?
    public var warnings: [String]

    /// The command that rolls back (the last one when the revision must be registered first).
    public var command: String { commands.last ?? "" }

    public var record: JSONObject {
        var object: JSONObject = [
            "cluster": .string(cluster), "service": .string(service), "current": .object(current.record),
            "target": .object(target.record),
            "skipped": .array(skipped.map {
                ["taskDefinition": .string($0.taskDefinition), "deploymentId": JSON($0.deploymentID), "reason": .string($0.reason)]
            }),
            "command": .string(command), "commands": JSON(commands), "warnings": JSON(warnings),
        ]
        if let reRegistration {
            object["registerTaskDefinition"] = [
                "input": reRegistration.input, "fillIn": JSON(reRegistration.fillIn), "source": .string(reRegistration.source),
            ]
        }
        return object
    }
}

public enum RollbackError: Error, CustomStringConvertible, Sendable {
    case nothingDeployed(String)
    case noTarget(String, skipped: [RollbackPlan.Skipped])
    case vetoed(String)

    public var description: String {
        switch self {
        case .nothingDeployed(let why), .vetoed(let why): return why
        case .noTarget(let why, let skipped):
            return ([why] + skipped.map { "  skipped \($0.taskDefinition) (\($0.deploymentID ?? "-")): \($0.reason)" })
                .joined(separator: "\n")
        }
    }
}

/// How to choose the target.
public struct RollbackRequest: Sendable {
    public var cluster: String
    public var service: String
    /// Roll back to exactly this revision.
    public var to: TaskDefinitionID?
    /// Skip this many good candidates first (1 = the last known good).
    public var steps = 1
    /// Ignore vetoes (revisions marked bad).
    public var force = false

    public init(cluster: String, service: String) {
        self.cluster = cluster
        self.service = service
    }
}

extension EventStore {
    /// The rollback plan for a service: the last known good deployment — the most recent one
    /// before the current that reached steady state, with another revision, not marked bad —
    /// or the revision asked for. Never a guess: without a good target it throws, saying why.
    public func planRollback(_ request: RollbackRequest) throws -> RollbackPlan {
        let history = try self.history(cluster: request.cluster, service: request.service)
        guard let shown = try whereRunning(cluster: request.cluster, service: request.service).first,
            let currentRevision = shown.taskDefinition
        else {
            throw RollbackError.nothingDeployed("\(request.cluster)/\(request.service) has no deployment in the log to roll back from")
        }
        let currentDeployment = history.first { $0.deploymentID == shown.deploymentID || $0.key == shown.deploymentID }
        let current = PlannedRevision(
            taskDefinition: currentRevision, deploymentID: shown.deploymentID, commit: shown.commit, deployedAt: shown.deployedAt)
        let vetoes = try badRevisions(cluster: request.cluster, service: request.service)
        var skipped: [RollbackPlan.Skipped] = []
        var warnings: [String] = []
        var chosen: DeploymentSummary?
        var targetRevision: TaskDefinitionID?

        if let wanted = request.to {
            if let veto = vetoes[wanted.description], !request.force {
                throw RollbackError.vetoed("\(wanted) is marked bad for \(request.cluster)/\(request.service): \(veto) (--force overrides)")
            }
            if wanted == currentRevision { warnings.append("\(wanted) is the revision running now") }
            chosen = history.first { $0.taskDefinition == wanted && $0.status == .completed }
            if chosen == nil {
                warnings.append("\(wanted) never completed a deployment of \(request.cluster)/\(request.service) in the log")
            }
            targetRevision = wanted
        } else {
            // The candidates: deployments that started before the current one, newest first.
            let cutoff = currentDeployment?.startedAt ?? shown.deployedAt
            var good = 0
            for deployment in history where deployment.key != currentDeployment?.key {
                if let cutoff, let started = deployment.startedAt, started > cutoff { continue }
                let name = deployment.taskDefinition?.description ?? "?"
                func skip(_ reason: String) {
                    skipped.append(RollbackPlan.Skipped(taskDefinition: name, deploymentID: deployment.deploymentID, reason: reason))
                }
                guard let revision = deployment.taskDefinition else { skip("its revision is unknown"); continue }
                switch deployment.status {
                case .failed: skip("failed" + (deployment.reason.map { ": \($0)" } ?? "")); continue
                case .rolledBack:
                    let byBreaker = deployment.rolledBackBy.flatMap { by in history.first { $0.key == by } }?.trigger == "circuit-breaker"
                    skip(byBreaker ? "rolled back by the circuit breaker" : "rolled back"); continue
                case .superseded: skip("superseded before it reached steady state"); continue
                case .inProgress: skip("still in progress"); continue
                case .completed: break
                }
                if revision == currentRevision { skip("same revision as the current one"); continue }
                if let veto = vetoes[name] {
                    if request.force {
                        warnings.append("\(name) is marked bad (\(veto)); chosen anyway because of --force")
                    } else {
                        skip("marked bad: \(veto)")
                        continue
                    }
                }
                let info = try taskDefinition(revision)
                if info?.status == "INACTIVE", try reRegistration(for: revision) == nil {
                    skip("revision deregistered, and its definition is not in the log to register again")
                    continue
                }
                good += 1
                if good < request.steps {
                    skip("a newer good target, passed over (--steps \(request.steps))")
                    continue
                }
                chosen = deployment
                targetRevision = revision
                break
            }
        }
        guard let targetRevision else {
            throw RollbackError.noTarget(
                "no good target to roll \(request.cluster)/\(request.service) back to from \(currentRevision)", skipped: skipped)
        }
        let target = PlannedRevision(
            taskDefinition: targetRevision, deploymentID: chosen?.deploymentID, commit: chosen?.commit, deployedAt: chosen?.startedAt)
        var commands: [String] = []
        var reRegistration: ReRegistration?
        let info = try taskDefinition(targetRevision)
        if info == nil { warnings.append("\(targetRevision) is not in the log; check that it exists before running the command") }
        if info?.status == "INACTIVE" {
            // ECS will not run an INACTIVE revision: register its definition again, as a new revision.
            guard let rebuilt = try self.reRegistration(for: targetRevision) else {
                throw RollbackError.noTarget("\(targetRevision) was deregistered and its definition is not in the log", skipped: skipped)
            }
            reRegistration = rebuilt
            let file = "\(targetRevision.family)-\(targetRevision.revision).json"
            commands.append("aws ecs register-task-definition --cli-input-json file://\(Self.shellQuoted(file))")
            commands.append("aws ecs update-service --cluster \(Self.shellQuoted(request.cluster)) --service \(Self.shellQuoted(request.service)) --task-definition \(Self.shellQuoted(targetRevision.family))")
            warnings.append("\(targetRevision) is INACTIVE (deregistered): register \(file) first; ECS gives it a new revision number, which the second command picks as the family's latest")
        } else {
            commands.append("aws ecs update-service --cluster \(Self.shellQuoted(request.cluster)) --service \(Self.shellQuoted(request.service)) --task-definition \(Self.shellQuoted(targetRevision.description))")
        }
        return RollbackPlan(
            cluster: request.cluster, service: request.service, current: current, target: target, skipped: skipped,
            commands: commands, reRegistration: reRegistration, warnings: warnings)
    }

    /// Revisions vetoed for a service: `family:revision` → why (and who, when).
    public func badRevisions(cluster: String, service: String) throws -> [String: String] {
        try read {
            let statement = try database.prepare(
                "SELECT family, revision, reason, actor, time FROM bad_revisions WHERE cluster = ? AND service = ?")
            statement.bind(1, cluster)
            statement.bind(2, service)
            var vetoes: [String: String] = [:]
            while try statement.step() {
                let who = statement.optionalText(3).map { " by \($0)" } ?? ""
                vetoes["\(statement.text(0)):\(statement.int(1))"] =
                    "\(statement.optionalText(2) ?? "no reason given")\(who) at \(Timestamp(microseconds: statement.int(4)).rfc3339)"
            }
            return vetoes
        }
    }

    /// The `register-task-definition` input for a revision, rebuilt from the document that
    /// defined it: the CloudTrail request itself, the AWS CLI output, or the normalized fields.
    public func reRegistration(for revision: TaskDefinitionID) throws -> ReRegistration? {
        let located: (eventID: String, definition: JSONObject)? = try read {
            let statement = try database.prepare("SELECT event_id FROM taskdefs WHERE family = ? AND revision = ? AND defined_at IS NOT NULL")
            statement.bind(1, revision.family)
            statement.bind(2, Int64(revision.revision))
            guard try statement.step() else { return nil }
            let eventID = statement.text(0)
            return (eventID, try Tracer(database: database).eventData(id: eventID) ?? JSONObject())
        }
        guard let located else { return nil }
        var input: JSONObject
        var source = "the normalized fields of event \(located.eventID)"
        let original = try read { () -> (String, [UInt8])? in
            let statement = try database.prepare("SELECT document_id FROM events WHERE event_id = ?")
            statement.bind(1, located.eventID)
            guard try statement.step() else { return nil }
            return try document(id: statement.int(0))
        }
        let parsed = original.flatMap { try? JSONParser.parse($0.1) }
        if let request = parsed?["requestParameters"]?.object, request["containerDefinitions"] != nil {
            input = request  // CloudTrail: the very request that registered it
            source = "the CloudTrail RegisterTaskDefinition request (event \(located.eventID))"
        } else if let definition = (parsed?["taskDefinition"] ?? parsed?["responseElements"]?["taskDefinition"])?.object,
            definition["containerDefinitions"] != nil
        {
            input = definition
            for field in [
                "taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities", "registeredAt", "registeredBy",
                "deregisteredAt",
            ] { input[field] = nil }
            source = "the stored task definition (event \(located.eventID))"
        } else {
            input = Self.inputFromNormalized(located.definition)
        }
        var fillIn: [String] = []
        Self.collectRedacted(.object(input), path: "", into: &fillIn)
        return ReRegistration(input: .object(input), fillIn: fillIn, source: source)
    }

    /// A register-task-definition input from shiplog's normalized task definition: environment
    /// values were never stored, so each is a placeholder to fill in.
    static func inputFromNormalized(_ data: JSONObject) -> JSONObject {
        var input: JSONObject = ["family": JSON(data.string("family"))]
        var containers: [JSON] = []
        for container in data["containers"]?.array ?? [] {
            var definition: JSONObject = ["name": JSON(container["name"]?.string), "image": JSON(container["image"]?.string)]
            for key in ["cpu", "memory", "memoryReservation", "essential"] where container[key] != nil { definition[key] = container[key] }
            let keys = container["envKeys"]?.array?.compactMap(\.string) ?? []
            if !keys.isEmpty {
                definition["environment"] = .array(keys.map { ["name": .string($0), "value": .string(Redactor.marker("env"))] })
            }
            if let secrets = container["secrets"], secrets.array?.isEmpty == false { definition["secrets"] = secrets }
            containers.append(.object(definition))
        }
        input["containerDefinitions"] = .array(containers)
        if let cpu = data.integer("cpu") { input["cpu"] = .string(String(cpu)) }
        if let memory = data.integer("memory") { input["memory"] = .string(String(memory)) }
        for key in ["networkMode", "taskRoleArn", "executionRoleArn"] { if let value = data.string(key) { input[key] = .string(value) } }
        if let compatibilities = data["compatibilities"] { input["requiresCompatibilities"] = compatibilities }
        return input
    }

    static func collectRedacted(_ value: JSON, path: String, into paths: inout [String]) {
        switch value {
        case .string(let text) where text.contains("[REDACTED"): paths.append(path.isEmpty ? "(value)" : path)
        case .array(let items):
            for (index, item) in items.enumerated() {
                let label = item["name"]?.string.map { "[\($0)]" } ?? "[\(index)]"
                collectRedacted(item, path: path + label, into: &paths)
            }
        case .object(let object):
            for member in object { collectRedacted(member.value, path: path.isEmpty ? member.key : "\(path).\(member.key)", into: &paths) }
        default: break
        }
    }

    /// Quotes a value for a POSIX shell when it needs it.
    static func shellQuoted(_ text: String) -> String {
        let safe = text.unicodeScalars.allSatisfy { CharacterSetLite.shellSafe.contains($0) }
        return safe && !text.isEmpty ? text : "'" + text.replacingFirstQuotes() + "'"
    }
}

enum CharacterSetLite {
    static let shellSafe: Set<Unicode.Scalar> = Set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/=@%+,".unicodeScalars)
}

extension String {
    /// `'` becomes `'\''` inside a single-quoted shell word.
    func replacingFirstQuotes() -> String {
        split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''")
    }
}
