import ArgumentParser
import ShiplogKit

struct Trace: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Follow a commit, an image digest, repository:tag or family:revision through the pipeline.",
        discussion: """
            Shows the commits, builds, images (with every tag that pointed at them, and when), task \
            definitions and deployments linked to the reference, and where and when each ran. \
            Links that are inferred (a tag, not a reported digest or a stated commit) say so.
            """)

    @OptionGroup var store: StoreOptions
    @Argument(help: "A commit (7+ hex digits), sha256:…, repository:tag, or family:revision.") var ref: String
    @Option(help: ArgumentHelp(
        "For repository:tag, only the images it pointed at last (default: 20 in a table, all in other formats; 0: all).",
        valueName: "n"))
    var limit: Int?
    @OptionGroup var output: FormatOptions

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more") }
    }

    func run() throws {
        let opened = try store.open()
        try opened.ensureProjections()
        let newest = limit.map { $0 == 0 ? nil : $0 } ?? (output.format == .table ? 20 : nil)
        let result = try queryFailure { try opened.trace(ref, newestImages: newest) }
        if output.format == .table {
            Terminal.write(Self.render(result))
        } else {
            try Terminal.write(Answers.trace(result, format: output.format))
        }
    }

    static func render(_ result: TraceResult) -> String {
        var lines: [String] = ["\(result.kind.rawValue) \(result.ref)"]
        func mark(_ source: LinkSource?) -> String { source.map { " [\($0.rawValue)]" } ?? "" }
        for commit in result.commits {
            let message = commit.message.map { " \"\($0.prefix(50))\"" } ?? ""
            lines.append("  commit   \(commit.sha.prefix(12)) \(commit.repository) by \(commit.author ?? "?") \(Abbreviate.minute(commit.time))\(message)")
        }
        for build in result.builds {
            lines.append("  build    run \(build.runID)#\(build.attempt) \(build.workflow ?? "") \(build.conclusion ?? build.status) \(Abbreviate.minute(build.finishedAt ?? build.startedAt))")
        }
        for image in result.images {
            let tags = image.tags.map { "\($0.tag) \(Abbreviate.minute($0.from))→\($0.until.map { Abbreviate.minute($0) } ?? "now")" }
            lines.append("  image    \(image.repository)@\(Abbreviate.digest(image.digest))\(mark(image.commitSource))")
            for tag in tags { lines.append("             :\(tag)") }
        }
        for revision in result.taskDefinitions {
            let containers = revision.containers.map { "\($0.container)=\(Abbreviate.image($0.image))" }.joined(separator: ", ")
            lines.append("  taskdef  \(revision.taskDefinition) \(revision.status) \(containers)".prefix(100).description)
        }
        for deployment in result.deployments {
            let live = deployment.liveFrom.map { "live \(Abbreviate.minute($0)) → \(deployment.liveUntil.map { Abbreviate.minute($0) } ?? "now")" } ?? "never live"
            lines.append("  deploy   \(deployment.cluster)/\(deployment.service) \(deployment.taskDefinition?.description ?? "?") \(deployment.status.rawValue) \(live)")
            let digests = deployment.images.compactMap { image in image.digest.map { "\(Abbreviate.digest($0))\(mark(image.digestSource))" } }
            lines.append("             \(deployment.deploymentID ?? deployment.key) by \(Abbreviate.actor(deployment.actor ?? deployment.trigger)) ran \(digests.joined(separator: ", "))")
        }
        if result.commits.isEmpty && result.deployments.isEmpty && result.images.isEmpty { lines.append("  (nothing linked)") }
        if result.olderImagesOmitted > 0 {
            lines.append("(\(result.olderImagesOmitted) older images the tag pointed at are not shown: --limit N, or --limit 0 for all)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what changed between two revisions: images and digests, environment keys, secrets, cpu/memory, commits.",
        discussion: """
            shiplog diff FAMILY:A FAMILY:B compares two revisions; shiplog diff SERVICE FROM TO \
            compares two deployments of a service, each named by revision (7 or family:7) or \
            deployment id. Environment variable values are never stored, so only their names are \
            compared; secret references are compared in full. The commits between come from the pushes in the log.
            """)

    @OptionGroup var store: StoreOptions
    @Argument(help: "FAMILY:A FAMILY:B, or SERVICE FROM TO.") var references: [String]
    @Option(help: "The service's cluster (SERVICE FROM TO form).") var cluster: String?
    @OptionGroup var output: FormatOptions

    func validate() throws {
        guard references.count == 2 || references.count == 3 else {
            throw ValidationError("give FAMILY:A FAMILY:B, or SERVICE FROM TO")
        }
        if references.count == 2, references.contains(where: { TaskDefinitionID($0) == nil }) {
            throw ValidationError("both revisions must be family:revision")
        }
    }

    func run() throws {
        let opened = try store.open()
        try opened.ensureProjections()
        let diff: RevisionDiff = try queryFailure {
            if references.count == 2 {
                return try opened.diff(TaskDefinitionID(references[0])!, TaskDefinitionID(references[1])!)
            }
            let resolvedCluster = try opened.cluster(ofService: references[0], given: cluster)
            return try opened.diff(cluster: resolvedCluster, service: references[0], from: references[1], to: references[2])
        }
        switch output.format {
        case .json, .ndjson, .csv: try Terminal.write(Answers.diff(diff, format: output.format))
        case .table:
            var table = TextTable([.init("WHAT"), .init("NAME", flexible: true), .init("FROM", flexible: true), .init("TO", flexible: true)])
            for row in diff.rows { table.append(row) }
            Terminal.write("\(diff.from.taskDefinition) → \(diff.to.taskDefinition)\n" + table.render())
            if !diff.hasChanges { Terminal.write("no change in images, digests, environment, secrets, cpu or memory\n") }
            if let reason = diff.commitsUnknownReason { Terminal.write("commits between: unknown (\(reason))\n") }
        }
    }
}

struct Rebuild: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete every projection and fold the whole log again.")

    @OptionGroup var store: StoreOptions

    func run() throws {
        let opened = try store.open()
        let started = System.monotonicNanoseconds()
        try opened.rebuildProjections()
        let seconds = Double(System.monotonicNanoseconds() - started) / 1e9
        let events = try opened.stats().events
        Terminal.write("rebuilt the projections from \(events) events in \(Int(seconds * 1000)) ms\n")
    }
}
