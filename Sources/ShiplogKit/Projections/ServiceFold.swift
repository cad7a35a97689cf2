/// The outcome of a service deployment.
public enum DeploymentStatus: String, Sendable, CaseIterable {
    case inProgress = "IN_PROGRESS"
    case completed = "COMPLETED"
    case failed = "FAILED"
    case rolledBack = "ROLLED_BACK"
    case superseded = "SUPERSEDED"

    var isFinal: Bool { self != .inProgress }
}

/// One deployment of a service, joined from every source that spoke of it: CloudTrail's
/// UpdateService (actor, revision, id), ECS deployment state changes (outcome), task state
/// changes (the digests really run), describe-services snapshots, and native records.
struct DeploymentRecord: Equatable {
    var key: String
    var deploymentID: String?
    var taskDefinition: TaskDefinitionID?
    var taskDefinitionInferred = false
    var startedAt: Int64?
    var finishedAt: Int64?
    var status: DeploymentStatus = .inProgress
    var statusHistory: [(Int64, DeploymentStatus)] = []
    var actor: String?
    var reason: String?
    var trigger: String?
    var rollback = false
    var rollbackTo: String?
    var rolledBackBy: String?
    var rollbackRequest: String?
    var desiredCount: Int64?
    var commit: String?
    /// container name → (digest, time first reported)
    var images: [String: (digest: String, time: Int64)] = [:]

    static func == (lhs: DeploymentRecord, rhs: DeploymentRecord) -> Bool {
        lhs.key == rhs.key && lhs.deploymentID == rhs.deploymentID && lhs.taskDefinition == rhs.taskDefinition
            && lhs.taskDefinitionInferred == rhs.taskDefinitionInferred && lhs.startedAt == rhs.startedAt
            && lhs.finishedAt == rhs.finishedAt && lhs.status == rhs.status
            && lhs.statusHistory.elementsEqual(rhs.statusHistory, by: { $0.0 == $1.0 && $0.1 == $1.1 })
            && lhs.actor == rhs.actor && lhs.reason == rhs.reason && lhs.trigger == rhs.trigger && lhs.rollback == rhs.rollback
            && lhs.rollbackTo == rhs.rollbackTo && lhs.rolledBackBy == rhs.rolledBackBy
            && lhs.rollbackRequest == rhs.rollbackRequest && lhs.desiredCount == rhs.desiredCount && lhs.commit == rhs.commit
            && lhs.images.mapValues { $0.digest } == rhs.images.mapValues { $0.digest }
    }

    /// When it counts as started: its own start, else when it was first heard of.
    var orderTime: Int64 { startedAt ?? finishedAt ?? 0 }

    mutating func set(_ newStatus: DeploymentStatus, at time: Int64) {
        guard newStatus != status else { return }
        status = newStatus
        statusHistory.append((time, newStatus))
    }
}

/// What `where` shows for a service at a moment.
struct ServiceView: Equatable {
    var deploymentKey: String?
    var taskDefinition: TaskDefinitionID?
    var status: DeploymentStatus?
    var deployedAt: Int64?
    var deployedBy: String?
    var desiredCount: Int64?
    var runningCount: Int64?
    var images: [String: String] = [:]
    var removed = false
}

/// The fold of one service's stream, in event-time order: deployments and their outcomes, what
/// runs, and every change of what `where` would show.
struct ServiceFold {
    let cluster: String
    let service: String
    var deployments: [String: DeploymentRecord] = [:]
    /// The deployment `where` shows: the newest one rolling out, else the last that completed.
    var current: String?
    var lastCompleted: String?
    var desiredCount: Int64?
    var runningCount: Int64?
    var runningTasks: [String: String] = [:]
    var removed = false
    var pendingRollbackRequests: [(id: String, taskDefinition: String, time: Int64)] = []
    var badRevisions: [String: (reason: String?, actor: String?, time: Int64)] = [:]
    var view = ServiceView()
    /// Views to record: (time, view), in time order; a later view at the same time replaces one.
    var changes: [(Int64, ServiceView)] = []
    var dirty: Set<String> = []
    var badRevisionsChanged = false

    init(cluster: String, service: String) {
        self.cluster = cluster
        self.service = service
    }

    mutating func apply(_ event: ProjectedEvent) {
        let data = event.data
        let time = event.time.microseconds
        switch event.type {
        case "deployment.started":
            started(data, time: time, event: event)
        case "deployment.completed", "deployment.failed", "deployment.rolled_back":
            finished(event.type, data, time: time, event: event)
        case "task.state":
            task(data, time: time, event: event)
        case "service.observed":
            observed(data, time: time, event: event)
        case "service.scaled":
            desiredCount = data.integer("desiredCount") ?? desiredCount
            if let running = data.integer("runningCount") { runningCount = running }
        case "service.event":
            // Steady state means the rollout in progress is done, even without a deployment event.
            if data.string("eventName") == "SERVICE_STEADY_STATE", let key = current, deployments[key]?.status == .inProgress,
                deployments[key]!.orderTime <= time
            {
                complete(key, at: time)
            }
        case "service.removed":
            removed = true
        case "rollback.requested":
            if let target = data.string("taskDefinition") {
                pendingRollbackRequests.append((event.id, target, time))
            }
        case "revision.marked_bad":
            if let revision = data.string("taskDefinition") {
                badRevisions[revision] = (data.string("reason"), data.string("actor"), time)
                badRevisionsChanged = true
            }
        case "revision.unmarked_bad":
            if let revision = data.string("taskDefinition") {
                badRevisions[revision] = nil
                badRevisionsChanged = true
            }
        default:
            break
        }
        recordView(at: time)
    }

    // MARK: - Deployments

    /// The deployment an event is about: its ECS id, else the newest rolling out `revision`
    /// (or anything rolling out), else a new one named after the event.
    private func key(for data: JSONObject, event: ProjectedEvent, matchingInProgress: Bool) -> String {
        if let id = data.string("deploymentId") { return id }
        if matchingInProgress {
            let revision = data.taskDefinition()
            let candidates = deployments.values.filter { $0.status == .inProgress }
                .filter { revision == nil || $0.taskDefinition == nil || $0.taskDefinition == revision }
            if let newest = candidates.max(by: { ($0.orderTime, $0.key) < ($1.orderTime, $1.key) }) { return newest.key }
        }
        return "event:" + event.id
    }

    private mutating func record(_ key: String, event: ProjectedEvent, data: JSONObject, time: Int64) -> DeploymentRecord {
        var deployment = deployments[key] ?? DeploymentRecord(key: key)
        if deployment.deploymentID == nil, let id = data.string("deploymentId") { deployment.deploymentID = id }
        if let revision = data.taskDefinition(), deployment.taskDefinition == nil || deployment.taskDefinitionInferred {
            deployment.taskDefinition = revision
            deployment.taskDefinitionInferred = false
        }
        deployment.actor = deployment.actor ?? data.string("actor")
        deployment.trigger = deployment.trigger ?? data.string("trigger")
        deployment.desiredCount = deployment.desiredCount ?? data.integer("desiredCount")
        deployment.commit = deployment.commit ?? data.string("commit")
        if let digest = data.string("digest"), deployment.images.isEmpty {
            deployment.images["(image)"] = (digest, time)
        }
        return deployment
    }

    /// The same rollout, told by a source that names no deployment id (a native record, CloudTrail
    /// with its response cut off) and by one that does: one deployment, not two.
    static let sameRolloutWindow: Int64 = 15 * 60 * 1_000_000

    private func sameRollout(_ data: JSONObject, time: Int64) -> String? {
        let revision = data.taskDefinition()
        let hasID = data.string("deploymentId") != nil
        return deployments.values.filter { candidate in
            candidate.status == .inProgress && (hasID ? candidate.key.hasPrefix("event:") : true)
                && abs(candidate.orderTime - time) <= Self.sameRolloutWindow
                && (revision == nil || candidate.taskDefinition == nil || candidate.taskDefinition == revision)
                && (hasID ? candidate.deploymentID == nil : true)
        }.max(by: { ($0.orderTime, $0.key) < ($1.orderTime, $1.key) })?.key
    }

    private mutating func started(_ data: JSONObject, time: Int64, event: ProjectedEvent) {
        var key = key(for: data, event: event, matchingInProgress: false)
        if deployments[key] == nil, let same = sameRollout(data, time: time) {
            if key.hasPrefix("event:") {
                key = same
            } else if var keyless = deployments.removeValue(forKey: same) {
                // Re-key the id-less record under the ECS id that just arrived.
                keyless.key = key
                deployments[key] = keyless
                dirty.insert(same)
                if current == same { current = key }
                if lastCompleted == same { lastCompleted = key }
            }
        }
        var deployment = record(key, event: event, data: data, time: time)
        deployment.startedAt = min(deployment.startedAt ?? time, time)
        if deployment.statusHistory.isEmpty { deployment.statusHistory.append((time, .inProgress)) }
        if data.flag("rollback") {
            deployment.rollback = true
            deployment.rollbackTo = deployment.rollbackTo ?? data.string("rollbackTo")
            deployment.reason = deployment.reason ?? data.string("reason")
        }
        if deployment.taskDefinition == nil, let target = deployment.rollbackTo,
            let revision = deployments.values.first(where: { $0.deploymentID == target || $0.key == target })?.taskDefinition
        {
            deployment.taskDefinition = revision
            deployment.taskDefinitionInferred = true
        }
        if deployment.rollbackRequest == nil, let revision = deployment.taskDefinition?.description,
            let index = pendingRollbackRequests.lastIndex(where: { $0.taskDefinition == revision && $0.time <= time })
        {
            deployment.rollbackRequest = pendingRollbackRequests[index].id
            pendingRollbackRequests.remove(at: index)
        }
        deployments[key] = deployment
        dirty.insert(key)
        if let desired = data.integer("desiredCount") { desiredCount = desired }
        // What this start leaves behind: the deployment a rollback undoes, older rollouts superseded.
        let others = deployments.values.filter { $0.key != key && $0.orderTime <= time }
            .sorted { ($0.orderTime, $0.key) > ($1.orderTime, $1.key) }
        if deployment.rollback, let undone = others.first(where: { ($0.status == .inProgress || $0.status == .failed) && !$0.rollback }) {
            deployments[undone.key]!.set(.rolledBack, at: time)
            deployments[undone.key]!.rolledBackBy = key
            deployments[undone.key]!.finishedAt = deployments[undone.key]!.finishedAt ?? time
            dirty.insert(undone.key)
        }
        for other in others where deployments[other.key]!.status == .inProgress {
            deployments[other.key]!.set(.superseded, at: time)
            deployments[other.key]!.finishedAt = deployments[other.key]!.finishedAt ?? time
            dirty.insert(other.key)
        }
        if let current, let shown = deployments[current], shown.orderTime > time, shown.key != key {
            return  // an older start arriving late does not take over from a newer one
        }
        current = key
    }

    private mutating func finished(_ type: String, _ data: JSONObject, time: Int64, event: ProjectedEvent) {
        let key = key(for: data, event: event, matchingInProgress: true)
        var deployment = record(key, event: event, data: data, time: time)
        if deployment.startedAt == nil && deployments[key] == nil { deployment.startedAt = time }
        deployment.reason = data.string("reason") ?? deployment.reason
        if data.flag("rollback") { deployment.rollback = true }
        deployments[key] = deployment
        dirty.insert(key)
        switch type {
        case "deployment.completed":
            complete(key, at: time)
        case "deployment.failed":
            if deployment.status != .rolledBack { deployments[key]!.set(.failed, at: time) }
            deployments[key]!.finishedAt = time
            fallBack(from: key)
        default:
            deployments[key]!.set(.rolledBack, at: time)
            deployments[key]!.finishedAt = deployments[key]!.finishedAt ?? time
            fallBack(from: key)
        }
    }

    private mutating func complete(_ key: String, at time: Int64) {
        guard var deployment = deployments[key] else { return }
        if deployment.status == .inProgress || deployment.status == .superseded { deployment.set(.completed, at: time) }
        deployment.finishedAt = deployment.finishedAt.map { max($0, time) } ?? time
        deployments[key] = deployment
        dirty.insert(key)
        // The newest completed deployment is what runs; an older one completing late changes nothing.
        if let last = lastCompleted, let previous = deployments[last], previous.orderTime > deployment.orderTime {
            return
        }
        lastCompleted = key
        if let current, current != key, let shown = deployments[current], shown.status == .inProgress,
            shown.orderTime > deployment.orderTime
        {
            return  // a newer rollout is still in progress
        }
        current = key
        for other in deployments.values where other.key != key && other.status == .inProgress && other.orderTime < deployment.orderTime {
            deployments[other.key]!.set(.superseded, at: time)
            deployments[other.key]!.finishedAt = deployments[other.key]!.finishedAt ?? time
            dirty.insert(other.key)
        }
    }

    /// After a deployment fails, the service runs what it ran before.
    private mutating func fallBack(from key: String) {
        if current == key { current = lastCompleted == key ? nil : lastCompleted }
    }

    // MARK: - Tasks and snapshots

    private mutating func task(_ data: JSONObject, time: Int64, event: ProjectedEvent) {
        guard let taskArn = data.string("taskArn") else { return }
        let revision = data.taskDefinition()
        var key = data.string("deploymentId")
        if key == nil, let revision {
            key = deployments.values.filter { $0.taskDefinition == revision && $0.orderTime <= time }
                .max(by: { ($0.orderTime, $0.key) < ($1.orderTime, $1.key) })?.key
        }
        let status = data.string("lastStatus") ?? ""
        let winding = ["STOPPED", "STOPPING", "DEPROVISIONING", "DEACTIVATING"].contains(status)
        if let known = key, deployments[known] == nil {
            if winding {
                // A task of a deployment never seen, stopping: an older one draining. Nothing new runs.
                key = nil
            } else {
                // A deployment known only from its tasks (its start was not fed in): it exists.
                var deployment = DeploymentRecord(key: known)
                deployment.deploymentID = data.string("deploymentId")
                deployment.taskDefinition = revision
                deployment.startedAt = time
                deployment.statusHistory = [(time, .inProgress)]
                deployment.trigger = "observed task"
                deployments[known] = deployment
                dirty.insert(known)
                if current == nil { current = known }
            }
        }
        if let key {
            var deployment = deployments[key]!
            if deployment.taskDefinition == nil, let revision { deployment.taskDefinition = revision }
            for container in data["containers"]?.array ?? [] {
                guard let name = container["name"]?.string, let digest = container["digest"]?.string else { continue }
                if let known = deployment.images[name], known.time <= time { continue }
                deployment.images[name] = (digest, time)
            }
            if deployment != deployments[key]! {
                deployments[key] = deployment
                dirty.insert(key)
            }
        }
        if status == "RUNNING" {
            runningTasks[taskArn] = key ?? ""
        } else {
            runningTasks[taskArn] = nil
        }
        runningCount = Int64(runningTasks.count)
    }

    private mutating func observed(_ data: JSONObject, time: Int64, event: ProjectedEvent) {
        desiredCount = data.integer("desiredCount") ?? desiredCount
        if let running = data.integer("runningCount") { runningCount = running }
        for entry in data["deployments"]?.array ?? [] {
            guard let entry = entry.object, let id = entry.string("id") else { continue }
            var deployment = record(id, event: event, data: ["deploymentId": .string(id)], time: time)
            if let revision = entry.taskDefinition(), deployment.taskDefinition == nil {
                deployment.taskDefinition = revision
            }
            let created = entry.time("createdAt")?.microseconds ?? time
            deployment.startedAt = min(deployment.startedAt ?? created, created)
            if deployment.statusHistory.isEmpty { deployment.statusHistory.append((deployment.startedAt!, .inProgress)) }
            deployment.desiredCount = deployment.desiredCount ?? entry.integer("desiredCount")
            deployments[id] = deployment
            dirty.insert(id)
            let updated = entry.time("updatedAt")?.microseconds ?? time
            switch entry.string("rolloutState") {
            case "COMPLETED"?:
                if deployments[id]!.status == .inProgress { complete(id, at: min(updated, time)) }
            case "FAILED"?:
                if deployments[id]!.status == .inProgress {
                    deployments[id]!.set(.failed, at: min(updated, time))
                    deployments[id]!.finishedAt = min(updated, time)
                    deployments[id]!.reason = deployments[id]!.reason ?? entry.string("rolloutStateReason")
                    fallBack(from: id)
                }
            default:
                if entry.string("status") == "PRIMARY", deployments[id]!.status == .inProgress {
                    if current.flatMap({ deployments[$0] }).map({ $0.orderTime <= deployments[id]!.orderTime }) ?? true {
                        current = id
                    }
                }
            }
        }
    }

    // MARK: - The view

    private mutating func recordView(at time: Int64) {
        var next = ServiceView(desiredCount: desiredCount, runningCount: runningCount, removed: removed)
        if !removed, let key = current, let deployment = deployments[key] {
            next.deploymentKey = key
            next.taskDefinition = deployment.taskDefinition
            next.status = deployment.status
            next.deployedAt = deployment.startedAt
            next.deployedBy = deployment.actor
            next.images = deployment.images.mapValues(\.digest)
        }
        guard next != view else { return }
        view = next
        if let last = changes.last, last.0 == time {
            changes[changes.count - 1] = (time, next)
        } else {
            changes.append((time, next))
        }
    }
}
