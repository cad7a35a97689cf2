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

/// A service's deployments with the indexes its fold needs, so that each event costs a lookup,
/// not a scan of every deployment the service ever had.
struct DeploymentBook {
    private(set) var records: [String: DeploymentRecord] = [:]
    /// Deployments rolling out now (usually none, one or two).
    private(set) var inProgress: Set<String> = []
    /// Every key by (order time, key): what happened before a moment, newest first.
    private var ordered: [(time: Int64, key: String)] = []
    private var byRevision: [TaskDefinitionID: Set<String>] = [:]

    subscript(key: String) -> DeploymentRecord? { records[key] }

    var values: Dictionary<String, DeploymentRecord>.Values { records.values }

    /// Adds or replaces a record, keeping the indexes.
    mutating func put(_ record: DeploymentRecord) {
        if let old = records[record.key] { unindex(old) }
        records[record.key] = record
        if record.status == .inProgress { inProgress.insert(record.key) }
        let entry = (record.orderTime, record.key)
        ordered.insert(entry, at: insertionIndex(entry))
        if let revision = record.taskDefinition { byRevision[revision, default: []].insert(record.key) }
    }

    mutating func update(_ key: String, _ body: (inout DeploymentRecord) -> Void) {
        guard var record = records[key] else { return }
        body(&record)
        put(record)
    }

    @discardableResult
    mutating func remove(_ key: String) -> DeploymentRecord? {
        guard let record = records.removeValue(forKey: key) else { return nil }
        unindex(record)
        return record
    }

    private mutating func unindex(_ record: DeploymentRecord) {
        inProgress.remove(record.key)
        let entry = (record.orderTime, record.key)
        let index = insertionIndex(entry)
        if index < ordered.count, ordered[index] == entry { ordered.remove(at: index) }
        if let revision = record.taskDefinition { byRevision[revision]?.remove(record.key) }
    }

    private func insertionIndex(_ entry: (Int64, String)) -> Int {
        var low = 0
        var high = ordered.count
        while low < high {
            let middle = (low + high) / 2
            if ordered[middle] < entry { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The newest deployment (by order time, then key) at or before `time` that satisfies `condition`.
    func newest(atOrBefore time: Int64, excluding key: String? = nil, where condition: (DeploymentRecord) -> Bool) -> DeploymentRecord? {
        var index = insertionIndex((time, String(repeating: "\u{10FFFF}", count: 1))) - 1
        while index >= 0 {
            let entry = ordered[index]
            if entry.key != key, let record = records[entry.key], condition(record) { return record }
            index -= 1
        }
        return nil
    }

    /// The deployments of a revision.
    func keys(of revision: TaskDefinitionID) -> Set<String> { byRevision[revision] ?? [] }

    /// The newest of a set of keys.
    func newest(of keys: some Sequence<String>) -> DeploymentRecord? {
        keys.compactMap { records[$0] }.max(by: { ($0.orderTime, $0.key) < ($1.orderTime, $1.key) })
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
    var deployments = DeploymentBook()
    /// The deployment `where` shows: the newest one rolling out, else the last that completed.
    var current: String?
    var lastCompleted: String?
    var desiredCount: Int64?
    var runningCount: Int64?
    var runningTasks: [String: String] = [:]
    var removed = false
    /// Recorded rollback requests not yet carried out: a later deployment of the revision (or, when
    /// the revision is registered again, of the family) carries it out.
    var pendingRollbackRequests: [(id: String, taskDefinition: String, time: Int64)] = []
    var badRevisions: [String: (reason: String?, actor: String?, time: Int64)] = [:]
    var view = ServiceView()
    /// Views to record: (time, view), in time order; a later view at the same time replaces one.
    var changes: [(Int64, ServiceView)] = []
    /// Deployments changed since the last save (a key with no record: removed).
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
            if data.string("eventName") == "SERVICE_STEADY_STATE", let key = current, let shown = deployments[key],
                shown.status == .inProgress, shown.orderTime <= time
            {
                complete(key, at: time)
            }
        case "service.removed":
            removed = true
        case "rollback.requested":
            if let target = data.string("taskDefinition") {
                // A revision to register again is matched by its family: it gets a new number.
                let key = data.flag("reRegister") ? (TaskDefinitionID(target)?.family ?? target) + ":*" : target
                pendingRollbackRequests.append((event.id, key, time))
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

    private mutating func put(_ deployment: DeploymentRecord) {
        deployments.put(deployment)
        dirty.insert(deployment.key)
    }

    private mutating func update(_ key: String, _ body: (inout DeploymentRecord) -> Void) {
        deployments.update(key, body)
        dirty.insert(key)
    }

    private mutating func end(_ key: String, as status: DeploymentStatus, at time: Int64) {
        update(key) { deployment in
            deployment.set(status, at: time)
            deployment.finishedAt = deployment.finishedAt ?? time
        }
    }

    /// The deployment an event is about: its ECS id, else the newest rolling out `revision`
    /// (or anything rolling out), else a new one named after the event.
    private func key(for data: JSONObject, event: ProjectedEvent, matchingInProgress: Bool) -> String {
        if let id = data.string("deploymentId") { return id }
        if matchingInProgress {
            let revision = data.taskDefinition()
            let candidates = deployments.inProgress.filter { key in
                let candidate = deployments[key]!
                return revision == nil || candidate.taskDefinition == nil || candidate.taskDefinition == revision
            }
            if let newest = deployments.newest(of: candidates) { return newest.key }
        }
        return "event:" + event.id
    }

    private func record(_ key: String, data: JSONObject, time: Int64) -> DeploymentRecord {
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
        let candidates = deployments.inProgress.filter { key in
            let candidate = deployments[key]!
            return (hasID ? candidate.key.hasPrefix("event:") && candidate.deploymentID == nil : true)
                && abs(candidate.orderTime - time) <= Self.sameRolloutWindow
                && (revision == nil || candidate.taskDefinition == nil || candidate.taskDefinition == revision)
        }
        return deployments.newest(of: candidates)?.key
    }

    private mutating func started(_ data: JSONObject, time: Int64, event: ProjectedEvent) {
        var key = key(for: data, event: event, matchingInProgress: false)
        if deployments[key] == nil, let same = sameRollout(data, time: time) {
            if key.hasPrefix("event:") {
                key = same
            } else if var keyless = deployments.remove(same) {
                // Re-key the id-less record under the ECS id that just arrived.
                keyless.key = key
                put(keyless)
                dirty.insert(same)
                if current == same { current = key }
                if lastCompleted == same { lastCompleted = key }
            }
        }
        var deployment = record(key, data: data, time: time)
        deployment.startedAt = min(deployment.startedAt ?? time, time)
        if deployment.statusHistory.isEmpty { deployment.statusHistory.append((time, .inProgress)) }
        if data.flag("rollback") {
            deployment.rollback = true
            deployment.rollbackTo = deployment.rollbackTo ?? data.string("rollbackTo")
            deployment.reason = deployment.reason ?? data.string("reason")
        }
        if deployment.taskDefinition == nil, let target = deployment.rollbackTo,
            let revision = (deployments[target] ?? deployments.values.first { $0.deploymentID == target })?.taskDefinition
        {
            deployment.taskDefinition = revision
            deployment.taskDefinitionInferred = true
        }
        if deployment.rollbackRequest == nil, let revision = deployment.taskDefinition,
            let index = pendingRollbackRequests.lastIndex(where: {
                ($0.taskDefinition == revision.description || $0.taskDefinition == revision.family + ":*") && $0.time <= time
            })
        {
            deployment.rollbackRequest = pendingRollbackRequests[index].id
            pendingRollbackRequests.remove(at: index)
        }
        put(deployment)
        if let desired = data.integer("desiredCount") { desiredCount = desired }
        // What this start leaves behind: the deployment a rollback undoes, older rollouts superseded.
        if deployment.rollback, let undone = deployments.newest(atOrBefore: time, excluding: key, where: {
            ($0.status == .inProgress || $0.status == .failed) && !$0.rollback
        }) {
            update(undone.key) { undone in
                undone.set(.rolledBack, at: time)
                undone.rolledBackBy = key
                undone.finishedAt = undone.finishedAt ?? time
            }
        }
        for other in deployments.inProgress.sorted() where other != key && deployments[other]!.orderTime <= time {
            end(other, as: .superseded, at: time)
        }
        if let current, let shown = deployments[current], shown.orderTime > time, shown.key != key {
            return  // an older start arriving late does not take over from a newer one
        }
        current = key
    }

    private mutating func finished(_ type: String, _ data: JSONObject, time: Int64, event: ProjectedEvent) {
        let key = key(for: data, event: event, matchingInProgress: true)
        var deployment = record(key, data: data, time: time)
        if deployment.startedAt == nil && deployments[key] == nil { deployment.startedAt = time }
        deployment.reason = data.string("reason") ?? deployment.reason
        if data.flag("rollback") { deployment.rollback = true }
        put(deployment)
        switch type {
        case "deployment.completed":
            complete(key, at: time)
        case "deployment.failed":
            update(key) { failed in
                if failed.status != .rolledBack { failed.set(.failed, at: time) }
                failed.finishedAt = time
            }
            fallBack(from: key)
        default:
            end(key, as: .rolledBack, at: time)
            fallBack(from: key)
        }
    }

    private mutating func complete(_ key: String, at time: Int64) {
        guard let existing = deployments[key] else { return }
        update(key) { deployment in
            if deployment.status == .inProgress || deployment.status == .superseded { deployment.set(.completed, at: time) }
            deployment.finishedAt = deployment.finishedAt.map { max($0, time) } ?? time
        }
        let order = existing.orderTime
        // The newest completed deployment is what runs; an older one completing late changes nothing.
        if let last = lastCompleted, let previous = deployments[last], previous.orderTime > order {
            return
        }
        lastCompleted = key
        if let current, current != key, let shown = deployments[current], shown.status == .inProgress, shown.orderTime > order {
            return  // a newer rollout is still in progress
        }
        current = key
        for other in deployments.inProgress.sorted() where other != key && deployments[other]!.orderTime < order {
            end(other, as: .superseded, at: time)
        }
        // At steady state the replaced deployments' tasks are gone, whether or not their stops were seen.
        let live = deployments.inProgress.union([key])
        runningTasks = runningTasks.filter { live.contains($0.value) }
        runningCount = Int64(runningTasks.count)
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
            key = deployments.newest(of: deployments.keys(of: revision).filter { deployments[$0]!.orderTime <= time })?.key
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
                put(deployment)
                if current == nil { current = known }
            }
        }
        if let key, var deployment = deployments[key] {
            let before = deployment
            // What a task reports running beats what was inferred from the deployment rolled back to.
            if let revision, deployment.taskDefinition == nil || deployment.taskDefinitionInferred {
                deployment.taskDefinition = revision
                deployment.taskDefinitionInferred = false
            }
            for container in data["containers"]?.array ?? [] {
                guard let name = container["name"]?.string, let digest = container["digest"]?.string else { continue }
                if let known = deployment.images[name], known.time <= time { continue }
                deployment.images[name] = (digest, time)
            }
            if deployment != before { put(deployment) }
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
            var deployment = record(id, data: ["deploymentId": .string(id)], time: time)
            if let revision = entry.taskDefinition(), deployment.taskDefinition == nil {
                deployment.taskDefinition = revision
            }
            let created = entry.time("createdAt")?.microseconds ?? time
            deployment.startedAt = min(deployment.startedAt ?? created, created)
            if deployment.statusHistory.isEmpty { deployment.statusHistory.append((deployment.startedAt!, .inProgress)) }
            deployment.desiredCount = deployment.desiredCount ?? entry.integer("desiredCount")
            put(deployment)
            let updated = min(entry.time("updatedAt")?.microseconds ?? time, time)
            switch entry.string("rolloutState") {
            case "COMPLETED"?:
                if deployments[id]!.status == .inProgress { complete(id, at: updated) }
            case "FAILED"?:
                if deployments[id]!.status == .inProgress {
                    update(id) { failed in
                        failed.set(.failed, at: updated)
                        failed.finishedAt = updated
                        failed.reason = failed.reason ?? entry.string("rolloutStateReason")
                    }
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
