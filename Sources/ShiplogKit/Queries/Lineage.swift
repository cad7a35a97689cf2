/// How a link in the lineage is known. Anything but `stated` and `reported` is inferred, and
/// every answer says which.
public enum LinkSource: String, Sendable {
    /// An event said so (a record of the image with its commit, a deployment naming its commit).
    case stated
    /// ECS reported it: the digest a task's container actually ran.
    case reported
    /// The task definition pins the image by digest.
    case pinned
    /// Inferred: the tag the task definition names pointed at this digest when the deployment started.
    case tagAtDeploy = "tag-at-deploy"
    /// Inferred: a rollback runs what the deployment it returns to ran.
    case rollbackTarget = "rollback-target"
    /// Inferred: the image carries a tag equal to the commit's sha (or a 7+ character prefix).
    case shaTag = "sha-tag"
    /// Inferred: the CI run that pushed the image built this commit.
    case build

    public var isInferred: Bool {
        switch self {
        case .stated, .reported, .pinned: return false
        case .tagAtDeploy, .rollbackTarget, .shaTag, .build: return true
        }
    }
}

/// An image a deployment ran (or would run), resolved as far as the log allows.
public struct ResolvedImage: Sendable, Equatable {
    public var container: String
    public var image: String?
    public var repository: String?
    public var tag: String?
    public var digest: String?
    public var digestSource: LinkSource?
    public var commit: String?
    public var commitSource: LinkSource?

    public var record: JSONObject {
        [
            "container": .string(container), "image": JSON(image), "tag": JSON(tag), "digest": JSON(digest),
            "digestSource": JSON(digestSource?.rawValue), "commit": JSON(commit), "commitSource": JSON(commitSource?.rawValue),
        ]
    }
}

/// Resolves lineage links with indexed lookups on the projections: tag → digest at a moment,
/// digest → commit, a deployment's images.
final class LineageResolver {
    private let database: Database
    private let containers: Statement
    private let tagAt: Statement
    private let deletedBetween: Statement
    private let statedCommit: Statement
    private let shaTags: Statement
    private let commitByPrefix: Statement
    private let buildCommit: Statement
    private let deploymentImages: Statement

    init(database: Database) throws {
        self.database = database
        containers = try database.prepare(
            "SELECT name, image, repository, tag, digest FROM taskdef_containers WHERE family = ? AND revision = ? ORDER BY name")
        tagAt = try database.prepare(
            """
            SELECT digest, time FROM tag_assignments WHERE repository = ? AND tag = ? AND time <= ?
            ORDER BY time DESC, event_id DESC LIMIT 1
            """)
        deletedBetween = try database.prepare(
            "SELECT 1 FROM image_deletions WHERE repository = ? AND digest = ? AND time >= ? AND time <= ? LIMIT 1")
        statedCommit = try database.prepare(
            """
            SELECT commit_sha FROM images WHERE digest = ? AND commit_sha IS NOT NULL AND commit_time <= ?
            ORDER BY (repository = ?) DESC, commit_time LIMIT 1
            """)
        shaTags = try database.prepare(
            "SELECT DISTINCT tag FROM tag_assignments WHERE digest = ? AND time <= ? AND length(tag) >= 7 ORDER BY tag")
        commitByPrefix = try database.prepare(
            "SELECT sha FROM commits WHERE sha >= ?1 AND sha < ?1 || 'g' AND pushed_at <= ?2 ORDER BY sha LIMIT 2")
        deploymentImages = try database.prepare(
            "SELECT images FROM deployments WHERE cluster = ?1 AND service = ?2 AND (key = ?3 OR deployment_id = ?3) LIMIT 1")
        buildCommit = try database.prepare(
            """
            SELECT b.commit_sha FROM images i JOIN builds b ON b.run_id = i.run_id
            WHERE i.digest = ? AND b.commit_sha IS NOT NULL AND i.first_seen <= ? LIMIT 1
            """)
    }

    /// The digests a deployment's tasks reported, by container.
    func reportedImages(cluster: String, service: String, deployment: String) throws -> [String: String] {
        deploymentImages.reset()
        deploymentImages.bind(1, cluster)
        deploymentImages.bind(2, service)
        deploymentImages.bind(3, deployment)
        defer { deploymentImages.reset() }
        guard try deploymentImages.step() else { return [:] }
        return Self.digests(fromImagesColumn: deploymentImages.text(0))
    }

    /// `{container: {digest, time}}` (a deployments row's images) → container → digest.
    static func digests(fromImagesColumn text: String) -> [String: String] {
        ((try? JSONParser.parse(text).object) ?? JSONObject()).members
            .reduce(into: [String: String]()) { $0[$1.key] = $1.value["digest"]?.string ?? $1.value.string }
    }

    /// The digest a tag pointed at, at a moment (nil when it pointed nowhere or was deleted).
    func digest(repository: String, tag: String, at time: Int64) throws -> String? {
        tagAt.reset()
        tagAt.bind(1, repository)
        tagAt.bind(2, tag)
        tagAt.bind(3, time)
        guard try tagAt.step(), let digest = tagAt.optionalText(0) else {
            tagAt.reset()
            return nil
        }
        let assigned = tagAt.int(1)
        tagAt.reset()
        deletedBetween.reset()
        deletedBetween.bind(1, repository)
        deletedBetween.bind(2, digest)
        deletedBetween.bind(3, assigned)
        deletedBetween.bind(4, time)
        defer { deletedBetween.reset() }
        return try deletedBetween.step() ? nil : digest
    }

    /// The commit an image digest was built from, as known at a moment, and how it is known.
    func commit(forDigest digest: String, repository: String?, at time: Int64) throws -> (String, LinkSource)? {
        statedCommit.reset()
        statedCommit.bind(1, digest)
        statedCommit.bind(2, time)
        statedCommit.bind(3, repository)
        if try statedCommit.step() {
            defer { statedCommit.reset() }
            return (statedCommit.text(0), .stated)
        }
        statedCommit.reset()
        shaTags.reset()
        shaTags.bind(1, digest)
        shaTags.bind(2, time)
        var tags: [String] = []
        while try shaTags.step() { tags.append(shaTags.text(0)) }
        shaTags.reset()
        for tag in tags {
            // A tag like "a1b2c3d" or "sha-a1b2c3d" that names exactly one known commit.
            let candidate = tag.hasPrefix("sha-") ? String(tag.dropFirst(4)) : tag
            guard candidate.count >= 7, candidate.count <= 40, candidate.utf8.allSatisfy(SchemaValidator.isLowerHex) else { continue }
            commitByPrefix.reset()
            commitByPrefix.bind(1, candidate)
            commitByPrefix.bind(2, time)
            var matches: [String] = []
            while try commitByPrefix.step() { matches.append(commitByPrefix.text(0)) }
            commitByPrefix.reset()
            if matches.count == 1 { return (matches[0], .shaTag) }
        }
        buildCommit.reset()
        buildCommit.bind(1, digest)
        buildCommit.bind(2, time)
        defer { buildCommit.reset() }
        if try buildCommit.step() { return (buildCommit.text(0), .build) }
        return nil
    }

    /// The images of a revision as a deployment ran them: the digests its tasks reported, else the
    /// pinned digest, else what the tag pointed at when the deployment started.
    func images(
        of revision: TaskDefinitionID?, reported: [String: String], inherited: [String: String] = [:], startedAt: Int64?,
        asOf time: Int64
    ) throws -> [ResolvedImage] {
        var resolved: [ResolvedImage] = []
        var seen = Set<String>()
        if let revision {
            containers.reset()
            containers.bind(1, revision.family)
            containers.bind(2, Int64(revision.revision))
            var rows: [(String, String?, String?, String?, String?)] = []
            while try containers.step() {
                rows.append((containers.text(0), containers.optionalText(1), containers.optionalText(2), containers.optionalText(3),
                             containers.optionalText(4)))
            }
            containers.reset()
            for (name, image, repository, tag, pinned) in rows {
                var entry = ResolvedImage(container: name, image: image, repository: repository, tag: tag)
                if let digest = reported[name] {
                    entry.digest = digest
                    entry.digestSource = .reported
                } else if let pinned {
                    entry.digest = pinned
                    entry.digestSource = .pinned
                } else if let digest = inherited[name] {
                    entry.digest = digest
                    entry.digestSource = .rollbackTarget
                } else if let repository, let tag, let start = startedAt,
                    let digest = try digest(repository: repository, tag: tag, at: min(start, time))
                {
                    entry.digest = digest
                    entry.digestSource = .tagAtDeploy
                }
                resolved.append(entry)
                seen.insert(name)
            }
        }
        for (name, digest) in reported.sorted(by: { $0.key < $1.key }) where !seen.contains(name) {
            resolved.append(ResolvedImage(container: name, digest: digest, digestSource: .reported))
        }
        for index in resolved.indices {
            guard let digest = resolved[index].digest,
                let (commit, source) = try commit(forDigest: digest, repository: resolved[index].repository, at: time)
            else { continue }
            resolved[index].commit = commit
            resolved[index].commitSource = source
        }
        return resolved
    }
}
