/// The projections of task-definition, image and git streams. Each update is a merge that gives
/// the same rows whatever order the events arrive in (earliest time wins, latest state wins by
/// sort key), so a late event is simply applied: these streams never need to fold again.
final class CatalogProjections {
    private let database: Database
    private let upsertTaskDefinition: Statement
    private let readTaskDefinition: Statement
    private let deleteContainers: Statement
    private let insertContainer: Statement
    private let insertTagAssignment: Statement
    private let insertDeletion: Statement
    private let upsertImage: Statement
    private let upsertCommit: Statement
    private let insertPush: Statement
    private let upsertBuild: Statement

    init(database: Database) throws {
        self.database = database
        upsertTaskDefinition = try database.prepare(
            """
            INSERT INTO taskdefs (family, revision, status, status_time, status_rank, registered_at, registered_by,
                deregistered_at, deregistered_by, cpu, memory, defined_at, event_id)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
            ON CONFLICT (family, revision) DO UPDATE SET
                status = CASE WHEN ?3 IS NOT NULL AND (?4 > status_time OR (?4 = status_time AND ?5 >= status_rank))
                              THEN excluded.status ELSE status END,
                status_rank = CASE WHEN ?4 > status_time OR (?4 = status_time AND ?5 >= status_rank)
                                   THEN excluded.status_rank ELSE status_rank END,
                status_time = max(status_time, excluded.status_time),
                registered_at = coalesce(min(registered_at, excluded.registered_at), registered_at, excluded.registered_at),
                registered_by = coalesce(registered_by, excluded.registered_by),
                deregistered_at = coalesce(min(deregistered_at, excluded.deregistered_at), deregistered_at,
                                           excluded.deregistered_at),
                deregistered_by = coalesce(deregistered_by, excluded.deregistered_by),
                cpu = CASE WHEN ?12 IS NOT NULL AND (defined_at IS NULL OR ?12 < defined_at OR (?12 = defined_at AND ?13 < event_id)) THEN excluded.cpu ELSE cpu END,
                memory = CASE WHEN ?12 IS NOT NULL AND (defined_at IS NULL OR ?12 < defined_at OR (?12 = defined_at AND ?13 < event_id)) THEN excluded.memory ELSE memory END,
                event_id = CASE WHEN ?12 IS NOT NULL AND (defined_at IS NULL OR ?12 < defined_at OR (?12 = defined_at AND ?13 < event_id)) THEN excluded.event_id ELSE event_id END,
                defined_at = CASE WHEN ?12 IS NOT NULL AND (defined_at IS NULL OR ?12 < defined_at OR (?12 = defined_at AND ?13 < event_id)) THEN excluded.defined_at
                                  ELSE defined_at END
            """)
        readTaskDefinition = try database.prepare("SELECT defined_at, event_id FROM taskdefs WHERE family = ? AND revision = ?")
        deleteContainers = try database.prepare("DELETE FROM taskdef_containers WHERE family = ? AND revision = ?")
        insertContainer = try database.prepare(
            """
            INSERT OR REPLACE INTO taskdef_containers (family, revision, name, image, registry, repository, tag, digest)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        insertTagAssignment = try database.prepare(
            """
            INSERT OR IGNORE INTO tag_assignments (repository, tag, time, event_id, digest, source)
            VALUES (?, ?, ?, ?, ?, ?)
            """)
        insertDeletion = try database.prepare(
            "INSERT OR IGNORE INTO image_deletions (repository, digest, time) VALUES (?, ?, ?)")
        upsertImage = try database.prepare(
            """
            INSERT INTO images (repository, digest, registry, first_seen, commit_sha, commit_time, run_id)
            VALUES (?1, ?2, ?3, ?4, ?5, CASE WHEN ?5 IS NULL THEN NULL ELSE ?4 END, ?6)
            ON CONFLICT (repository, digest) DO UPDATE SET
                registry = coalesce(registry, excluded.registry),
                first_seen = min(first_seen, excluded.first_seen),
                commit_sha = CASE WHEN ?5 IS NOT NULL AND (commit_time IS NULL OR ?4 < commit_time
                                      OR (?4 = commit_time AND ?5 < commit_sha)) THEN ?5 ELSE commit_sha END,
                run_id = CASE WHEN ?5 IS NOT NULL AND (commit_time IS NULL OR ?4 < commit_time
                                  OR (?4 = commit_time AND ?5 < commit_sha)) THEN coalesce(?6, run_id)
                              ELSE coalesce(run_id, ?6) END,
                commit_time = CASE WHEN ?5 IS NOT NULL AND (commit_time IS NULL OR ?4 < commit_time) THEN ?4
                                   ELSE commit_time END
            """)
        upsertCommit = try database.prepare(
            """
            INSERT INTO commits (repository, sha, time, author, message, pushed_at, ref) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
            ON CONFLICT (repository, sha) DO UPDATE SET
                ref = CASE WHEN ?6 < pushed_at OR (?6 = pushed_at AND ?7 < ref) THEN ?7 ELSE ref END,
                time = CASE WHEN ?6 < pushed_at OR (?6 = pushed_at AND ?7 < ref) THEN coalesce(?3, time) ELSE coalesce(time, ?3) END,
                author = CASE WHEN ?6 < pushed_at OR (?6 = pushed_at AND ?7 < ref) THEN coalesce(?4, author)
                              ELSE coalesce(author, ?4) END,
                message = CASE WHEN ?6 < pushed_at OR (?6 = pushed_at AND ?7 < ref) THEN coalesce(?5, message)
                               ELSE coalesce(message, ?5) END,
                pushed_at = min(pushed_at, ?6)
            """)
        insertPush = try database.prepare(
            """
            INSERT OR IGNORE INTO pushes (repository, event_id, ref, before_sha, after_sha, time, actor, commits)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        upsertBuild = try database.prepare(
            """
            INSERT INTO builds (repository, run_id, attempt, workflow, commit_sha, branch, event, status, conclusion,
                requested_at, started_at, finished_at, url, actor, state_time, state_rank)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
            ON CONFLICT (repository, run_id, attempt) DO UPDATE SET
                workflow = coalesce(workflow, ?4), commit_sha = coalesce(commit_sha, ?5), branch = coalesce(branch, ?6),
                event = coalesce(event, ?7), url = coalesce(url, ?13), actor = coalesce(actor, ?14),
                requested_at = coalesce(min(requested_at, ?10), requested_at, ?10),
                started_at = coalesce(min(started_at, ?11), started_at, ?11),
                finished_at = coalesce(max(finished_at, ?12), finished_at, ?12),
                status = CASE WHEN ?15 > state_time OR (?15 = state_time AND ?16 >= state_rank) THEN ?8 ELSE status END,
                conclusion = CASE WHEN ?15 > state_time OR (?15 = state_time AND ?16 >= state_rank)
                                  THEN coalesce(?9, conclusion) ELSE conclusion END,
                state_rank = CASE WHEN ?15 > state_time OR (?15 = state_time AND ?16 >= state_rank) THEN ?16 ELSE state_rank END,
                state_time = max(state_time, ?15)
            """)
    }

    func apply(_ event: ProjectedEvent) throws {
        switch event.type {
        case "taskdef.registered", "taskdef.observed", "taskdef.deregistered": try applyTaskDefinition(event)
        case "image.pushed", "image.observed", "image.deleted": try applyImage(event)
        case "git.push": try applyPush(event)
        case "build.requested", "build.started", "build.completed": try applyBuild(event)
        default: break
        }
    }

    private func applyTaskDefinition(_ event: ProjectedEvent) throws {
        let data = event.data
        guard let family = data.string("family"), let revision = data.integer("revision") else { return }
        let time = event.time.microseconds
        let rank = ProjectedEvent.rank(event.type)
        let deregistered = event.type == "taskdef.deregistered"
        let status: String? = deregistered ? "INACTIVE" : (data.string("status") ?? (event.type == "taskdef.registered" ? "ACTIVE" : nil))
        let containers = data["containers"]?.array ?? []
        let defines = !deregistered && !containers.isEmpty
        // Whether this event's definition wins: the earliest event that had one (ties by event id).
        var wins = defines
        if defines {
            readTaskDefinition.reset()
            readTaskDefinition.bind(1, family)
            readTaskDefinition.bind(2, revision)
            if try readTaskDefinition.step(), let definedAt = readTaskDefinition.optionalInt(0) {
                let definer = readTaskDefinition.text(1)
                wins = time < definedAt || (time == definedAt && JSONWriter.utf8Less(event.id, definer))
            }
            readTaskDefinition.reset()
        }
        let statement = upsertTaskDefinition.reset()
        statement.bind(1, family)
        statement.bind(2, revision)
        // A listing that states no status creates the row as ACTIVE with the lowest precedence.
        statement.bind(3, status ?? "ACTIVE")
        statement.bind(4, status == nil ? Int64.min : time)
        statement.bind(5, Int64(rank))
        statement.bind(6, deregistered ? nil : (data.time("registeredAt")?.microseconds ?? (event.type == "taskdef.registered" ? time : nil)))
        statement.bind(7, deregistered ? nil : data.string("actor"))
        statement.bind(8, deregistered ? time : data.time("deregisteredAt")?.microseconds)
        statement.bind(9, deregistered ? data.string("actor") : nil)
        statement.bind(10, data.integer("cpu"))
        statement.bind(11, data.integer("memory"))
        // The definition itself stays in the log (the event's data); the row says which event.
        statement.bind(12, defines ? time : nil)
        statement.bind(13, event.id)
        try statement.run()
        // The containers follow the definition that won (the earliest that had them).
        guard wins else { return }
        deleteContainers.bind(1, family)
        deleteContainers.bind(2, revision)
        try deleteContainers.run()
        for container in containers {
            guard let name = container["name"]?.string else { continue }
            let image = container["image"]?.string
            let reference = image.flatMap(ImageReference.init)
            insertContainer.bind(1, family)
            insertContainer.bind(2, revision)
            insertContainer.bind(3, name)
            insertContainer.bind(4, image)
            insertContainer.bind(5, reference?.registry)
            insertContainer.bind(6, reference?.repository)
            insertContainer.bind(7, reference?.tag ?? (reference?.digest == nil && reference != nil ? "latest" : nil))
            insertContainer.bind(8, reference?.digest)
            try insertContainer.run()
        }
    }

    private func applyImage(_ event: ProjectedEvent) throws {
        let data = event.data
        guard let repository = data.string("repository") else { return }
        let time = event.time.microseconds
        let digest = data.string("digest")
        let tags = data["tags"]?.array?.compactMap(\.string) ?? []
        if event.type == "image.deleted" {
            for tag in tags { try assign(repository, tag, nil, "deleted", event) }
            if tags.isEmpty, let digest {
                insertDeletion.bind(1, repository)
                insertDeletion.bind(2, digest)
                insertDeletion.bind(3, time)
                try insertDeletion.run()
            }
            return
        }
        guard let digest else { return }
        let source = event.type == "image.observed" ? "observed" : "pushed"
        // An observation is timed when the image was pushed; the tags it shows hold from then.
        for tag in tags { try assign(repository, tag, digest, source, event) }
        upsertImage.bind(1, repository)
        upsertImage.bind(2, digest)
        upsertImage.bind(3, data.string("registry"))
        upsertImage.bind(4, time)
        upsertImage.bind(5, data.string("commit"))
        upsertImage.bind(6, data.string("runId"))
        try upsertImage.run()
    }

    private func assign(_ repository: String, _ tag: String, _ digest: String?, _ source: String, _ event: ProjectedEvent) throws {
        insertTagAssignment.bind(1, repository)
        insertTagAssignment.bind(2, tag)
        insertTagAssignment.bind(3, event.time.microseconds)
        insertTagAssignment.bind(4, event.id)
        insertTagAssignment.bind(5, digest)
        insertTagAssignment.bind(6, source)
        try insertTagAssignment.run()
    }

    private func applyPush(_ event: ProjectedEvent) throws {
        let data = event.data
        guard let repository = data.string("repository"), let ref = data.string("ref") else { return }
        let commits = data["commits"]?.array ?? []
        for commit in commits {
            guard let sha = commit["sha"]?.string else { continue }
            upsertCommit.bind(1, repository)
            upsertCommit.bind(2, sha)
            upsertCommit.bind(3, commit["time"]?.string.flatMap { Timestamp(iso8601: $0) }?.microseconds)
            upsertCommit.bind(4, commit["author"]?.string)
            upsertCommit.bind(5, commit["message"]?.string)
            upsertCommit.bind(6, event.time.microseconds)
            upsertCommit.bind(7, ref)
            try upsertCommit.run()
        }
        insertPush.bind(1, repository)
        insertPush.bind(2, event.id)
        insertPush.bind(3, ref)
        insertPush.bind(4, data.string("before"))
        insertPush.bind(5, data.string("after"))
        insertPush.bind(6, event.time.microseconds)
        insertPush.bind(7, data.string("actor"))
        insertPush.bind(8, JSONWriter.compact(.array(commits.compactMap { $0["sha"] })))
        try insertPush.run()
    }

    private func applyBuild(_ event: ProjectedEvent) throws {
        let data = event.data
        guard let repository = data.string("repository"), let run = data.string("runId") else { return }
        let time = event.time.microseconds
        let status: String
        switch event.type {
        case "build.requested": status = "requested"
        case "build.started": status = "in_progress"
        default: status = "completed"
        }
        let statement = upsertBuild.reset()
        statement.bind(1, repository)
        statement.bind(2, run)
        statement.bind(3, data.integer("attempt") ?? 1)
        statement.bind(4, data.string("workflow"))
        statement.bind(5, data.string("commit"))
        statement.bind(6, data.string("branch"))
        statement.bind(7, data.string("event"))
        statement.bind(8, status)
        statement.bind(9, data.string("conclusion"))
        statement.bind(10, status == "requested" ? time : nil)
        statement.bind(11, status == "in_progress" ? (data.time("startedAt")?.microseconds ?? time) : data.time("startedAt")?.microseconds)
        statement.bind(12, status == "completed" ? time : nil)
        statement.bind(13, data.string("url"))
        statement.bind(14, data.string("actor"))
        statement.bind(15, time)
        statement.bind(16, Int64(ProjectedEvent.rank(event.type)))
        try statement.run()
    }
}
