import ArgumentParser
import ShiplogKit

struct Rollback: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Plan a rollback to the last known good revision, and print the exact command.",
        discussion: """
            The target is the most recent earlier deployment of the service that reached steady \
            state, with another revision than the current one, and not marked bad; every candidate \
            passed over is listed with why. --to picks a revision, --steps N the Nth good one. \
            shiplog never calls AWS: it prints `aws ecs update-service …` (and, for a deregistered \
            revision, the register-task-definition JSON to register it again). --record appends a \
            rollback request to the log, which the deployment that carries it out is linked to.
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var signing: SigningOptions
    @Argument(help: "The service.") var service: String
    @Option(help: "Its cluster (needed when several clusters have a service of that name).") var cluster: String?
    @Option(help: ArgumentHelp("Roll back to this revision (family:revision).", valueName: "family:rev")) var to: String?
    @Option(help: "Skip to the Nth good revision (1 = the last known good).") var steps: Int = 1
    @Option(help: "Why (required with --record).") var reason: String?
    @Flag(help: "Append a rollback-requested event to the log.") var record = false
    @Option(help: "Who asks (default: $GITHUB_ACTOR, else $USER).") var actor: String?
    @Flag(help: "Allow a revision marked bad.") var force = false
    @Option(help: ArgumentHelp("Write the register-task-definition JSON here (when the target must be registered again).",
                               valueName: "file")) var writeTaskDefinition: String?
    @OptionGroup var output: FormatOptions

    func validate() throws {
        if let to, TaskDefinitionID(to) == nil { throw ValidationError("--to must be family:revision") }
        if steps < 1 { throw ValidationError("--steps must be at least 1") }
        if to != nil && steps != 1 { throw ValidationError("give --to or --steps, not both") }
        if record && (reason ?? "").isEmpty { throw ValidationError("--record needs --reason") }
    }

    func run() throws {
        let opened = try signing.open(store)
        try opened.ensureProjections()
        var request = RollbackRequest(cluster: try queryFailure { try opened.cluster(ofService: service, given: cluster) },
                                      service: service)
        request.to = to.flatMap(TaskDefinitionID.init)
        request.steps = steps
        request.force = force
        let plan: RollbackPlan
        do { plan = try opened.planRollback(request) } catch let error as RollbackError {
            throw CommandFailure(error.description)
        }
        var recorded: String?
        if record {
            let environment = CIEnvironment.current()
            var data: JSONObject = [
                "cluster": .string(plan.cluster), "service": .string(plan.service),
                "taskDefinition": .string(plan.target.taskDefinition.description),
                "from": .string(plan.current.taskDefinition.description), "reason": .string(reason ?? ""),
                "actor": .string(actor ?? environment.actor ?? "unknown"), "command": .string(plan.command),
            ]
            if plan.reRegistration != nil { data["reRegister"] = true }
            let event = try Recorder(environment: environment).event(
                type: "rollback.requested", data: data, key: "\(plan.cluster)/\(plan.service)/\(plan.target.taskDefinition)")
            try opened.append([Recorder.document(event)])
            recorded = event.id
        }
        if let file = writeTaskDefinition, let registration = plan.reRegistration {
            try System.writeFile(file, Array((JSONWriter.pretty(registration.input) + "\n").utf8))
        }
        if output.format != .table {
            try Terminal.write(Answers.rollback(plan, recorded: recorded, format: output.format))
            return
        }
        var text = """
            \(plan.cluster)/\(plan.service)
              current  \(plan.current.taskDefinition)  \(plan.current.deploymentID ?? "")  commit \(plan.current.commit.map(Abbreviate.commit) ?? "?")
              target   \(plan.target.taskDefinition)  \(plan.target.deploymentID ?? "")  commit \(plan.target.commit.map(Abbreviate.commit) ?? "?")  deployed \(Abbreviate.minute(plan.target.deployedAt))

            """
        if !plan.skipped.isEmpty {
            text += "passed over:\n"
            for skipped in plan.skipped {
                text += "  \(skipped.taskDefinition)  \(skipped.deploymentID ?? "-")  \(skipped.reason)\n"
            }
        }
        for warning in plan.warnings { text += "note: \(warning)\n" }
        if let registration = plan.reRegistration {
            text += "\nregister-task-definition input, rebuilt from \(registration.source)"
            text += writeTaskDefinition.map { " (written to \($0))" } ?? " (--write-task-definition FILE saves it)"
            text += ":\n" + JSONWriter.pretty(registration.input) + "\n"
            if !registration.fillIn.isEmpty {
                text += "fill these back in before registering (their values are never stored):\n"
                for path in registration.fillIn { text += "  \(path)\n" }
            }
        }
        text += "\nrun:\n" + plan.commands.map { "  \($0)\n" }.joined()
        if let recorded { text += "\nrecorded rollback request \(recorded)\n" }
        Terminal.write(text)
    }
}

struct MarkBad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mark-bad",
        abstract: "Veto a revision as a rollback target for a service (--undo lifts the veto).")

    @OptionGroup var store: StoreOptions
    @OptionGroup var signing: SigningOptions
    @Argument(help: "The service.") var service: String
    @Argument(help: "The revision, family:revision.") var taskDefinition: String
    @Option(help: "Its cluster.") var cluster: String?
    @Option(help: "Why (required unless --undo).") var reason: String?
    @Option(help: "Who (default: $GITHUB_ACTOR, else $USER).") var actor: String?
    @Flag(help: "Lift the veto.") var undo = false

    func validate() throws {
        if TaskDefinitionID(taskDefinition) == nil { throw ValidationError("the revision must be family:revision") }
        if !undo && (reason ?? "").isEmpty { throw ValidationError("--reason is required") }
    }

    func run() throws {
        let opened = try signing.open(store)
        let resolved = try queryFailure { try opened.cluster(ofService: service, given: cluster) }
        let environment = CIEnvironment.current()
        var data: JSONObject = [
            "cluster": .string(resolved), "service": .string(service), "taskDefinition": .string(taskDefinition),
            "actor": .string(actor ?? environment.actor ?? "unknown"),
        ]
        if let reason { data["reason"] = .string(reason) }
        let type = undo ? "revision.unmarked_bad" : "revision.marked_bad"
        let event = try Recorder(environment: environment).event(
            type: type, data: data, key: "\(resolved)/\(service)/\(taskDefinition)/\(System.now().microseconds)")
        try opened.append([Recorder.document(event)])
        Terminal.write("\(undo ? "lifted the veto on" : "marked bad:") \(taskDefinition) for \(resolved)/\(service)\n")
    }
}

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Who changed what, where, when: deployments, rollbacks, scaling, registrations, pushes, vetoes, refused calls.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var scope: ScopeOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
        let opened = try store.open()
        let filter = scope.filter
        if output.format != .table {
            let writer = RecordWriter(format: output.format, columns: AuditEntry.columns, output: Terminal.output)
            try opened.audit(filter) { try writer.write($0.record) }
            try writer.finish()
            return
        }
        var table = TextTable([
            .init("TIME"), .init("ACTOR", flexible: true, minimumWidth: 10, shrinkPriority: 1), .init("ACTION"),
            .init("WHERE", flexible: true, minimumWidth: 8), .init("WHAT", flexible: true, minimumWidth: 12, shrinkPriority: 2),
        ])
        try opened.audit(filter) { entry in
            let place = [entry.cluster, entry.service].compactMap { $0 }.joined(separator: "/")
            table.append([Abbreviate.minute(entry.time), Abbreviate.actor(entry.actor), entry.action, place.isEmpty ? "-" : place,
                          [entry.target, entry.detail].compactMap { $0 }.joined(separator: "  ")])
        }
        Terminal.write(table.rows.isEmpty ? "no changes\n" : table.render())
    }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export deployments, events or services for an audit, with the log position and chain head they match.",
        discussion: """
            Stable columns (schema/exports.json). After the rows comes a manifest naming the kind, \
            the filters, the log position and chain hash the export was made at, and the SHA-256 of \
            the rows: JSON, a top-level "export" member; NDJSON, a last line {"shiplogExport": …}; \
            CSV, a last line "# shiplog export: {…}". `shiplog verify --export FILE` checks an \
            export against the log. CSV is RFC 4180, UTF-8, with formula-like cells neutralised.
            """)

    @OptionGroup var store: StoreOptions
    @Argument(help: "deployments, events or services.") var kind: String
    @OptionGroup var scope: ScopeOptions
    @Option(name: .long, help: "json, ndjson or csv.") var format: OutputFormat = .csv
    @Option(help: ArgumentHelp("Write here instead of standard output.", valueName: "file")) var output: String?

    func validate() throws {
        guard ExportKind(rawValue: kind) != nil else { throw ValidationError("export deployments, events or services") }
        guard format != .table else { throw ValidationError("--format is json, ndjson or csv") }
    }

    func run() throws {
        try refuseOverwriting(output, option: "--output", store: store.path)
        let opened = try store.open()
        try opened.ensureProjections()
        let filter = scope.filter
        let destination = try output.map { try FileWriter(path: $0) } ?? Terminal.output
        let showProgress = Terminal.errorIsTerminal
        let manifest = try opened.export(ExportKind(rawValue: kind)!, filter: filter, format: format, to: destination) { rows in
            if showProgress && rows > 0 { try? Terminal.errors.write("\rexported \(rows) rows…"); try? Terminal.errors.flush() }
        }
        if let output {
            try destination.close()
            Terminal.write("exported \(manifest.rowCount) \(kind) rows to \(output) at position \(manifest.position), chain \(manifest.chain)\n")
        }
        if showProgress { try? Terminal.errors.write("\r\u{1B}[K"); try? Terminal.errors.flush() }
    }
}
