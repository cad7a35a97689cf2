/// Draws `where` as a Mermaid flowchart: a box per cluster holding a box per service, each with
/// the revision it shows and its tasks — the picture people draw to explain ECS.
public enum MermaidMap {
    public static func render(_ rows: [ServiceStatus]) -> String {
        var text = "flowchart TB\n"
        var clusters: [(name: String, services: [ServiceStatus])] = []
        for row in rows {
            if clusters.last?.name == row.cluster {
                clusters[clusters.count - 1].services.append(row)
            } else {
                clusters.append((row.cluster, [row]))
            }
        }
        for (clusterIndex, cluster) in clusters.enumerated() {
            let clusterID = "c\(clusterIndex)"
            text += "  subgraph \(clusterID)[\"cluster \(label(cluster.name))\"]\n"
            for (serviceIndex, service) in cluster.services.enumerated() {
                let serviceID = "\(clusterID)s\(serviceIndex)"
                text += "    subgraph \(serviceID)[\"service \(label(service.service))\"]\n"
                var revision = label(service.taskDefinition?.description ?? "no revision")
                if let status = service.status { revision += " · \(status.rawValue)" }
                if let digest = service.images.first?.digest { revision += "<br/>\(label(Abbreviate.digest(digest)))" }
                if let commit = service.commit {
                    revision += "<br/>commit \(label(Abbreviate.commit(commit)))\(service.commitSource?.isInferred == true ? " (inferred)" : "")"
                }
                if let deployedAt = service.deployedAt {
                    revision += "<br/>\(label(Abbreviate.minute(deployedAt)))"
                    if let actor = service.deployedBy { revision += " by \(label(Abbreviate.actor(actor)))" }
                }
                let running = service.runningCount.map(String.init) ?? "?"
                let desired = service.desiredCount.map(String.init) ?? "?"
                text += "      \(serviceID)r[\"\(revision)\"]\n"
                text += "      \(serviceID)t[[\"tasks: \(running) running / \(desired) desired\"]]\n"
                text += "      \(serviceID)r --> \(serviceID)t\n"
                text += "    end\n"
            }
            text += "  end\n"
        }
        if rows.isEmpty { text += "  empty[\"no services\"]\n" }
        return text
    }

    /// Text safe inside a quoted Mermaid label: quotes and markup become entity codes.
    static func label(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "\"": result += "#quot;"
            case "<": result += "#lt;"
            case ">": result += "#gt;"
            case "#": result += "#35;"
            case "\n", "\r": result += " "
            default: result.append(character)
            }
        }
        return result
    }
}
