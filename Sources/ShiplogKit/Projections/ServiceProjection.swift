/// Loads a service's fold from its projection rows and writes it back: deployments, the views
/// over time, vetoed revisions, and the little state a fold carries between events.
final class ServiceProjection {
    private let database: Database
    private let selectDeployments: Statement
    private let upsertDeployment: Statement
    private let deleteDeployment: Statement
    private let deleteDigests: Statement
    private let insertDigest: Statement
    private let upsertState: Statement
    private let selectBad: Statement
    private let deleteBad: Statement
    private let insertBad: Statement

    init(database: Database) throws {
        self.database = database
        selectDeployments = try database.prepare(
            """
            SELECT key, deployment_id, family, revision, taskdef_inferred, started_at, finished_at, status, status_history,
                   actor, reason, trigger, rollback, rollback_to, rolled_back_by, rollback_request, desired_count,
                   commit_sha, images
            FROM deployments WHERE cluster = ? AND service = ?
            """)
        upsertDeployment = try database.prepare(
            """
            INSERT OR REPLACE INTO deployments (cluster, service, key, deployment_id, family, revision, taskdef_inferred,
                started_at, finished_at, status, status_history, actor, reason, trigger, rollback, rollback_to,
                rolled_back_by, rollback_request, desired_count, commit_sha, images)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        deleteDeployment = try database.prepare("DELETE FROM deployments WHERE cluster = ? AND service = ? AND key = ?")
        deleteDigests = try database.prepare("DELETE FROM deployment_digests WHERE cluster = ? AND service = ? AND key = ?")
        insertDigest = try database.prepare(
            "INSERT OR IGNORE INTO deployment_digests (cluster, service, key, digest) VALUES (?, ?, ?, ?)")
        upsertState = try database.prepare(
            """
            INSERT OR REPLACE INTO service_states (cluster, service, valid_from, deployment_key, family, revision, status,
                deployed_at, deployed_by, desired_count, running_count, images, removed)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        selectBad = try database.prepare(
            "SELECT family, revision, reason, actor, time FROM bad_revisions WHERE cluster = ? AND service = ?")
        deleteBad = try database.prepare("DELETE FROM bad_revisions WHERE cluster = ? AND service = ?")
        insertBad = try database.prepare(
            "INSERT INTO bad_revisions (cluster, service, family, revision, reason, actor, time) VALUES (?, ?, ?, ?, ?, ?, ?)")
    }

    /// `service/CLUSTER/SERVICE` → (cluster, service).
    static func names(ofStream stream: String) -> (cluster: String, service: String)? {
        EventCatalog.serviceNames(ofStream: stream)
    }

    /// Deletes everything projected for a service, before it is folded again from zero.
    func clear(cluster: String, service: String) throws {
        for table in ["deployments", "deployment_digests", "service_states", "bad_revisions"] {
            let statement = try database.prepare("DELETE FROM \(table) WHERE cluster = ? AND service = ?")
            statement.bind(1, cluster)
            statement.bind(2, service)
            try statement.run()
        }
    }

    func load(cluster: String, service: String, state: [UInt8]?) throws -> ServiceFold {
        var fold = ServiceFold(cluster: cluster, service: service)
        selectDeployments.reset()
        selectDeployments.bind(1, cluster)
        selectDeployments.bind(2, service)
        while try selectDeployments.step() {
            let row = selectDeployments
            var deployment = DeploymentRecord(key: row.text(0))
            deployment.deploymentID = row.optionalText(1)
            if let family = row.optionalText(2), let revision = row.optionalInt(3) {
                deployment.taskDefinition = TaskDefinitionID(family: family, revision: Int(revision))
            }
            deployment.taskDefinitionInferred = row.int(4) != 0
            deployment.startedAt = row.optionalInt(5)
            deployment.finishedAt = row.optionalInt(6)
            deployment.status = DeploymentStatus(rawValue: row.text(7)) ?? .inProgress
            deployment.statusHistory = (try? JSONParser.parse(row.text(8)).array)?.compactMap { pair in
                guard let time = pair[0]?.int, let status = pair[1]?.string.flatMap(DeploymentStatus.init) else { return nil }
                return (time, status)
            } ?? []
            deployment.actor = row.optionalText(9)
            deployment.reason = row.optionalText(10)
            deployment.trigger = row.optionalText(11)
            deployment.rollback = row.int(12) != 0
            deployment.rollbackTo = row.optionalText(13)
            deployment.rolledBackBy = row.optionalText(14)
            deployment.rollbackRequest = row.optionalText(15)
            deployment.desiredCount = row.optionalInt(16)
            deployment.commit = row.optionalText(17)
            for member in (try? JSONParser.parse(row.text(18)).object) ?? JSONObject() {
                if let digest = member.value["digest"]?.string, let time = member.value["time"]?.int {
                    deployment.images[member.key] = (digest, time)
                }
            }
            fold.deployments.put(deployment)
        }
        selectDeployments.reset()
        selectBad.reset()
        selectBad.bind(1, cluster)
        selectBad.bind(2, service)
        while try selectBad.step() {
            fold.badRevisions["\(selectBad.text(0)):\(selectBad.int(1))"] =
                (selectBad.optionalText(2), selectBad.optionalText(3), selectBad.int(4))
        }
        selectBad.reset()
        if let state, let json = try? JSONParser.parse(state) {
            fold.current = json["current"]?.string
            fold.lastCompleted = json["lastCompleted"]?.string
            fold.desiredCount = json["desiredCount"]?.int
            fold.runningCount = json["runningCount"]?.int
            fold.removed = json["removed"]?.bool ?? false
            for member in json["runningTasks"]?.object ?? JSONObject() {
                fold.runningTasks[member.key] = member.value.string ?? ""
            }
            fold.pendingRollbackRequests = (json["pendingRollbackRequests"]?.array ?? []).compactMap { item in
                guard let id = item["id"]?.string, let revision = item["taskDefinition"]?.string, let time = item["time"]?.int
                else { return nil }
                return (id, revision, time)
            }
            fold.view = Self.view(from: json["view"] ?? .null)
        }
        return fold
    }

    /// Writes the deployments, views and vetoes the fold changed since the last save.
    func save(rows fold: inout ServiceFold) throws {
        for key in fold.dirty.sorted() {
            deleteDigests.bind(1, fold.cluster)
            deleteDigests.bind(2, fold.service)
            deleteDigests.bind(3, key)
            try deleteDigests.run()
            guard let deployment = fold.deployments[key] else {
                deleteDeployment.bind(1, fold.cluster)
                deleteDeployment.bind(2, fold.service)
                deleteDeployment.bind(3, key)
                try deleteDeployment.run()
                continue
            }
            try write(deployment, fold)
        }
        fold.dirty.removeAll()
        for (time, view) in fold.changes {
            let statement = upsertState
            statement.bind(1, fold.cluster)
            statement.bind(2, fold.service)
            statement.bind(3, time)
            statement.bind(4, view.deploymentKey)
            statement.bind(5, view.taskDefinition?.family)
            statement.bind(6, view.taskDefinition.map { Int64($0.revision) })
            statement.bind(7, view.status?.rawValue)
            statement.bind(8, view.deployedAt)
            statement.bind(9, view.deployedBy)
            statement.bind(10, view.desiredCount)
            statement.bind(11, view.runningCount)
            statement.bind(12, JSONWriter.canonical(.object(JSONObject(view.images.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))))
            statement.bind(13, Int64(view.removed ? 1 : 0))
            try statement.run()
        }
        fold.changes.removeAll()
        if fold.badRevisionsChanged {
            deleteBad.bind(1, fold.cluster)
            deleteBad.bind(2, fold.service)
            try deleteBad.run()
            for (revision, veto) in fold.badRevisions.sorted(by: { $0.key < $1.key }) {
                guard let id = TaskDefinitionID(revision) else { continue }
                insertBad.bind(1, fold.cluster)
                insertBad.bind(2, fold.service)
                insertBad.bind(3, id.family)
                insertBad.bind(4, Int64(id.revision))
                insertBad.bind(5, veto.reason)
                insertBad.bind(6, veto.actor)
                insertBad.bind(7, veto.time)
                try insertBad.run()
            }
            fold.badRevisionsChanged = false
        }
    }

    /// The state a fold carries to the next transaction (besides its rows).
    func state(of fold: ServiceFold) -> [UInt8] {
        var state = JSONObject()
        state["current"] = JSON(fold.current)
        state["lastCompleted"] = JSON(fold.lastCompleted)
        state["desiredCount"] = JSON(fold.desiredCount)
        state["runningCount"] = JSON(fold.runningCount)
        state["removed"] = .bool(fold.removed)
        state["runningTasks"] = .object(JSONObject(fold.runningTasks.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
        state["pendingRollbackRequests"] = .array(fold.pendingRollbackRequests.map {
            ["id": .string($0.id), "taskDefinition": .string($0.taskDefinition), "time": .number(String($0.time))]
        })
        state["view"] = Self.json(fold.view)
        return Array(JSONWriter.canonical(.object(state)).utf8)
    }

    private func write(_ deployment: DeploymentRecord, _ fold: ServiceFold) throws {
        let statement = upsertDeployment
        statement.bind(1, fold.cluster)
        statement.bind(2, fold.service)
        statement.bind(3, deployment.key)
        statement.bind(4, deployment.deploymentID)
        statement.bind(5, deployment.taskDefinition?.family)
        statement.bind(6, deployment.taskDefinition.map { Int64($0.revision) })
        statement.bind(7, Int64(deployment.taskDefinitionInferred ? 1 : 0))
        statement.bind(8, deployment.startedAt)
        statement.bind(9, deployment.finishedAt)
        statement.bind(10, deployment.status.rawValue)
        statement.bind(11, JSONWriter.canonical(.array(deployment.statusHistory.map { [.number(String($0.0)), .string($0.1.rawValue)] })))
        statement.bind(12, deployment.actor)
        statement.bind(13, deployment.reason)
        statement.bind(14, deployment.trigger)
        statement.bind(15, Int64(deployment.rollback ? 1 : 0))
        statement.bind(16, deployment.rollbackTo)
        statement.bind(17, deployment.rolledBackBy)
        statement.bind(18, deployment.rollbackRequest)
        statement.bind(19, deployment.desiredCount)
        statement.bind(20, deployment.commit)
        let images = JSONObject(deployment.images.sorted { $0.key < $1.key }.map {
            ($0.key, ["digest": .string($0.value.digest), "time": .number(String($0.value.time))])
        })
        statement.bind(21, JSONWriter.canonical(.object(images)))
        try statement.run()
        for digest in Set(deployment.images.values.map(\.digest)).sorted() {
            insertDigest.bind(1, fold.cluster)
            insertDigest.bind(2, fold.service)
            insertDigest.bind(3, deployment.key)
            insertDigest.bind(4, digest)
            try insertDigest.run()
        }
    }

    static func json(_ view: ServiceView) -> JSON {
        var object = JSONObject()
        object["deploymentKey"] = JSON(view.deploymentKey)
        object["taskDefinition"] = JSON(view.taskDefinition?.description)
        object["status"] = JSON(view.status?.rawValue)
        object["deployedAt"] = JSON(view.deployedAt)
        object["deployedBy"] = JSON(view.deployedBy)
        object["desiredCount"] = JSON(view.desiredCount)
        object["runningCount"] = JSON(view.runningCount)
        object["images"] = .object(JSONObject(view.images.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
        object["removed"] = .bool(view.removed)
        return .object(object)
    }

    static func view(from json: JSON) -> ServiceView {
        var view = ServiceView()
        view.deploymentKey = json["deploymentKey"]?.string
        view.taskDefinition = json["taskDefinition"]?.string.flatMap(TaskDefinitionID.init)
        view.status = json["status"]?.string.flatMap(DeploymentStatus.init)
        view.deployedAt = json["deployedAt"]?.int
        view.deployedBy = json["deployedBy"]?.string
        view.desiredCount = json["desiredCount"]?.int
        view.runningCount = json["runningCount"]?.int
        for member in json["images"]?.object ?? JSONObject() { view.images[member.key] = member.value.string }
        view.removed = json["removed"]?.bool ?? false
        return view
    }
}
