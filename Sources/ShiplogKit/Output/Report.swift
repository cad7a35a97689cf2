/// One service's lane in the timeline: what it showed, from when to when.
public struct TimelineLane: Sendable {
    public var service: String
    public var bars: [TimelineBar]
}

/// A deployment while its service showed it.
public struct TimelineBar: Sendable {
    public var deploymentID: String
    public var taskDefinition: String?
    public var from: Timestamp
    public var until: Timestamp?
    public var status: DeploymentStatus
    public var rollback: Bool
    public var commit: String?
    public var digest: String?
    public var actor: String?
}

/// Everything `shiplog report` shows.
public struct ReportData: Sendable {
    public var title: String
    public var generatedAt: Timestamp
    public var since: Timestamp?
    public var until: Timestamp?
    public var headPosition: Int64
    public var headChain: String
    public var running: [ServiceStatus]
    public var histories: [(service: String, deployments: [DeploymentSummary])]
    public var metrics: DeliveryMetrics
    public var lanes: [TimelineLane]
}

extension EventStore {
    /// The timeline of each service (filtered like `where`): one bar per revision and image for
    /// each run of time the service showed it, clipped to the period.
    public func timeline(cluster: String? = nil, since: Timestamp? = nil, until: Timestamp? = nil) throws -> [TimelineLane] {
        try read {
            let states = try database.prepare(
                "SELECT valid_from, deployment_key, removed FROM service_states WHERE cluster = ? AND service = ? ORDER BY valid_from")
            var lanes: [TimelineLane] = []
            for (clusterName, serviceName) in try services(cluster: cluster) {
                let deployments = Dictionary(
                    try history(cluster: clusterName, service: serviceName).map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
                states.reset()
                states.bind(1, clusterName)
                states.bind(2, serviceName)
                var runs: [(key: String, from: Int64, until: Int64?)] = []
                while try states.step() {
                    let time = states.int(0)
                    let key = states.int(2) != 0 ? nil : states.optionalText(1)
                    if let last = runs.last, last.until == nil {
                        if last.key == key { continue }
                        runs[runs.count - 1].until = time
                    }
                    if let key { runs.append((key, time, nil)) }
                }
                // A service that returns to a revision and then gets a rollback deployment of that same
                // revision and image never stopped running it: one bar, named by the later deployment.
                var merged: [(key: String, from: Int64, until: Int64?)] = []
                for run in runs {
                    if let last = merged.last, let before = deployments[last.key], let now = deployments[run.key],
                        before.taskDefinition != nil, before.taskDefinition == now.taskDefinition,
                        before.images.first?.digest == now.images.first?.digest
                    {
                        merged[merged.count - 1] = (run.key, last.from, run.until)
                    } else {
                        merged.append(run)
                    }
                }
                var bars: [TimelineBar] = []
                for run in merged {
                    if let since, let end = run.until, end < since.microseconds { continue }
                    if let until, run.from > until.microseconds { continue }
                    let deployment = deployments[run.key]
                    bars.append(TimelineBar(
                        deploymentID: deployment?.deploymentID ?? run.key, taskDefinition: deployment?.taskDefinition?.description,
                        from: Timestamp(microseconds: max(run.from, since?.microseconds ?? Int64.min)),
                        until: run.until.map { Timestamp(microseconds: min($0, until?.microseconds ?? Int64.max)) }
                            ?? until,
                        status: deployment?.status ?? .inProgress,
                        rollback: deployment?.rollbackTo != nil || deployment?.trigger == "circuit-breaker"
                            || deployment?.rollbackRequest != nil,
                        commit: deployment?.commit, digest: deployment?.images.first?.digest, actor: deployment?.actor))
                }
                lanes.append(TimelineLane(service: "\(clusterName)/\(serviceName)", bars: bars))
            }
            return lanes
        }
    }

    /// Gathers a report: the current view, the period's deployments, the metrics, the timeline.
    public func reportData(cluster: String? = nil, since: Timestamp? = nil, until: Timestamp? = nil) throws -> ReportData {
        try read {
            var filter = HistoryFilter()
            filter.since = since
            filter.until = until
            var request = MetricsRequest()
            request.cluster = cluster
            request.since = since
            request.until = until
            let head = try self.head()
            return ReportData(
                title: "Deployments" + (cluster.map { " of \($0)" } ?? ""), generatedAt: System.now(), since: since, until: until,
                headPosition: head?.position ?? 0, headChain: head?.chain ?? Hex.encode(HashChain.genesis),
                running: try whereRunning(cluster: cluster),
                histories: try services(cluster: cluster).map {
                    ("\($0.cluster)/\($0.service)", try history(cluster: $0.cluster, service: $0.service, filter: filter))
                },
                metrics: try metrics(request), lanes: try timeline(cluster: cluster, since: since, until: until))
        }
    }
}

/// Renders a report as Markdown or as one self-contained HTML file with an SVG timeline.
public enum ReportRenderer {
    public static func duration(_ seconds: Int64?) -> String {
        guard let seconds else { return "—" }
        if seconds < 60 { return "\(seconds) s" }
        if seconds < 3600 { return "\(seconds / 60) min" }
        if seconds < 86_400 * 2 { return String(format1: Double(seconds) / 3600) + " h" }
        return String(format1: Double(seconds) / 86_400) + " days"
    }

    public static func rate(_ value: Double?) -> String {
        value.map { String(format1: $0 * 100) + " %" } ?? "—"
    }

    /// The four headline figures: name, value, what they are over.
    public static func summaries(_ figures: DeliveryMetrics.Figures) -> [(label: String, value: String, detail: String)] {
        [
            ("Deployment frequency", "\(figures.deployments)", "completed deployments"),
            ("Lead time for changes", duration(figures.leadTimeMedian),
             "median; p90 \(duration(figures.leadTimeP90)), over \(figures.commits) commit\(figures.commits == 1 ? "" : "s")"),
            ("Change failure rate", rate(figures.changeFailureRate), "\(figures.failed) of \(figures.attempted) deployments"),
            ("Time to restore", duration(figures.restoreMedian), "median over \(figures.restores) incident\(figures.restores == 1 ? "" : "s")"),
        ]
    }

    static func period(_ data: ReportData) -> String {
        "\(data.since.map { Abbreviate.minute($0) } ?? "the beginning") → \(data.until.map { Abbreviate.minute($0) } ?? "now")"
    }

    // MARK: Markdown

    /// A value as Markdown inline text: HTML and Markdown syntax escaped, line breaks as
    /// `<br>`, terminal controls as `\uXXXX`, so it renders as the value and one table row stays one row.
    static func markdownText(_ value: String) -> String {
        var result = ""
        var previousWasCarriageReturn = false
        for scalar in value.unicodeScalars {
            defer { previousWasCarriageReturn = scalar == "\r" }
            switch scalar {
            case "\n" where previousWasCarriageReturn: continue
            case "\n", "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "\u{2029}": result += "<br>"
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\\", "|", "`", "*", "_", "[", "]": result += "\\" + String(scalar)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return TerminalText.escaped(result)
    }

    /// A short identifier (digest, commit) as code when it is plain, else as escaped text.
    static func markdownCode(_ value: String) -> String {
        value.utf8.allSatisfy({ $0 < 0x80 && ($0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "-") || isalnumASCII($0)) })
            ? "`\(value)`" : markdownText(value)
    }

    private static func isalnumASCII(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    public static func markdown(_ data: ReportData) -> String {
        func cell(_ text: String?) -> String { text.map(markdownText) ?? "—" }
        var text = "# \(markdownText(data.title))\n\n"
        text += "Period: \(period(data)). Generated \(data.generatedAt.rfc3339) from the log at position \(data.headPosition), "
        text += "chain `\(data.headChain)`.\n\n## What runs now\n\n"
        text += "| Cluster | Service | Revision | Status | Digest | Commit | Deployed | By | Tasks |\n"
        text += "|---|---|---|---|---|---|---|---|---|\n"
        for row in data.running {
            text += "| \(cell(row.cluster)) | \(cell(row.service)) | \(cell(row.taskDefinition?.description)) | "
            text += "\(cell(row.status?.rawValue)) | \(markdownCode(Abbreviate.digest(row.images.first?.digest))) | "
            text += "\(markdownCode(Abbreviate.commit(row.commit)))\(row.commitSource?.isInferred == true ? " (inferred)" : "") | "
            text += "\(Abbreviate.minute(row.deployedAt)) | \(cell(row.deployedBy)) | "
            text += "\(row.runningCount.map(String.init) ?? "?")/\(row.desiredCount.map(String.init) ?? "?") |\n"
        }
        let metrics = data.metrics
        text += "\n## Delivery metrics (DORA)\n\n| Metric | Value | Over |\n|---|---|---|\n"
        for summary in summaries(metrics.total) {
            text += "| \(summary.label) | \(summary.value) | \(summary.detail) |\n"
        }
        if metrics.services.count > 1 {
            text += "\n| Service | Deployments | Lead time (median) | Change failure rate | Time to restore (median) |\n|---|---|---|---|---|\n"
            for service in metrics.services {
                let figures = metrics.figures(service: service)
                text += "| \(cell(service)) | \(figures.deployments) | \(duration(figures.leadTimeMedian)) | "
                text += "\(rate(figures.changeFailureRate)) | \(duration(figures.restoreMedian)) |\n"
            }
        }
        if !metrics.failures.isEmpty {
            text += "\n## Failures\n\n| When | Service | Deployment | Revision | Why |\n|---|---|---|---|---|\n"
            for failure in metrics.failures {
                text += "| \(Abbreviate.minute(failure.at)) | \(cell(failure.service)) | \(cell(failure.deploymentID)) | "
                text += "\(cell(failure.taskDefinition)) | \(cell(failure.reason)) |\n"
            }
        }
        text += "\n## Deployments in the period\n"
        for (service, deployments) in data.histories {
            text += "\n### \(markdownText(service))\n\n"
            guard !deployments.isEmpty else {
                text += "No deployment in the period.\n"
                continue
            }
            text += "| Started | Status | Revision | Deployment | Digest | Commit | By |\n|---|---|---|---|---|---|---|\n"
            for deployment in deployments {
                text += "| \(Abbreviate.minute(deployment.startedAt)) | \(deployment.status.rawValue) | "
                text += "\(cell(deployment.taskDefinition?.description)) | \(cell(deployment.deploymentID ?? deployment.key)) | "
                text += "\(markdownCode(Abbreviate.digest(deployment.images.first?.digest))) | \(markdownCode(Abbreviate.commit(deployment.commit))) | "
                text += "\(cell(deployment.actor ?? deployment.trigger)) |\n"
            }
        }
        return text
    }

    // MARK: HTML

    public static func html(_ data: ReportData) -> String {
        let metrics = data.metrics
        var body = "<header><h1>\(escape(data.title))</h1><p class=\"meta\">Period: \(escape(period(data))). "
        body += "Generated \(escape(data.generatedAt.rfc3339)) from the log at position \(data.headPosition), chain "
        body += "<code>\(escape(data.headChain))</code>.</p></header>\n"
        body += "<section class=\"metrics\">"
        for (label, value, detail) in summaries(metrics.total) {
            body += "<div class=\"metric\"><div class=\"label\">\(escape(label))</div><div class=\"value\">\(escape(value))</div>"
            body += "<div class=\"detail\">\(escape(detail))</div></div>"
        }
        body += "</section>\n<h2>Timeline</h2>\n" + timelineSVG(data) + "\n"
        body += "<p class=\"legend\"><span class=\"key completed\"></span> completed <span class=\"key in_progress\"></span> rolling out "
        body += "<span class=\"key failed\"></span> failed / rolled back <span class=\"key superseded\"></span> superseded "
        body += "&#8617; rollback &#10007; failure; a bar that reaches the edge is still live. "
        body += "Hover a bar for its commit, digest and actor.</p>\n"
        body += "<h2>What runs now</h2>\n<table><thead><tr><th>Service</th><th>Revision</th><th>Status</th><th>Digest</th>"
        body += "<th>Commit</th><th>Deployed</th><th>By</th><th>Tasks</th></tr></thead><tbody>"
        for row in data.running {
            body += "<tr><td>\(escape(row.cluster))/\(escape(row.service))</td><td>\(escape(row.taskDefinition?.description ?? "—"))</td>"
            body += "<td class=\"status \(statusClass(row.status))\">\(escape(row.status?.rawValue ?? "—"))</td>"
            body += "<td><code>\(escape(Abbreviate.digest(row.images.first?.digest)))</code></td>"
            body += "<td><code>\(escape(Abbreviate.commit(row.commit)))</code>\(row.commitSource?.isInferred == true ? " <em>inferred</em>" : "")</td>"
            body += "<td>\(escape(Abbreviate.minute(row.deployedAt)))</td><td>\(escape(Abbreviate.actor(row.deployedBy)))</td>"
            body += "<td>\(row.runningCount.map(String.init) ?? "?")/\(row.desiredCount.map(String.init) ?? "?")</td></tr>"
        }
        body += "</tbody></table>\n"
        if !metrics.failures.isEmpty {
            body += "<h2>Failures</h2>\n<table><thead><tr><th>When</th><th>Service</th><th>Deployment</th><th>Revision</th><th>Why</th></tr></thead><tbody>"
            for failure in metrics.failures {
                body += "<tr><td>\(escape(Abbreviate.minute(failure.at)))</td><td>\(escape(failure.service))</td>"
                body += "<td>\(escape(failure.deploymentID))</td><td>\(escape(failure.taskDefinition ?? "—"))</td><td>\(escape(failure.reason))</td></tr>"
            }
            body += "</tbody></table>\n"
        }
        body += "<h2>Deployments in the period</h2>\n"
        for (service, deployments) in data.histories {
            body += "<h3>\(escape(service))</h3>\n"
            guard !deployments.isEmpty else {
                body += "<p>No deployment in the period.</p>\n"
                continue
            }
            body += "<table><thead><tr><th>Started</th><th>Status</th><th>Revision</th><th>Deployment</th><th>Digest</th><th>Commit</th><th>By</th></tr></thead><tbody>"
            for deployment in deployments {
                body += "<tr><td>\(escape(Abbreviate.minute(deployment.startedAt)))</td>"
                body += "<td class=\"status \(statusClass(deployment.status))\">\(escape(deployment.status.rawValue))</td>"
                body += "<td>\(escape(deployment.taskDefinition?.description ?? "—"))</td><td>\(escape(deployment.deploymentID ?? deployment.key))</td>"
                body += "<td><code>\(escape(Abbreviate.digest(deployment.images.first?.digest)))</code></td>"
                body += "<td><code>\(escape(Abbreviate.commit(deployment.commit)))</code></td>"
                body += "<td>\(escape(Abbreviate.actor(deployment.actor ?? deployment.trigger)))</td></tr>"
            }
            body += "</tbody></table>\n"
        }
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(data.title)) — shiplog</title>
            <style>
            \(stylesheet)
            </style>
            </head>
            <body>
            \(body)</body>
            </html>

            """
    }

    static func statusClass(_ status: DeploymentStatus?) -> String {
        switch status {
        case .completed?: return "completed"
        case .inProgress?: return "in_progress"
        case .failed?, .rolledBack?: return "failed"
        case .superseded?: return "superseded"
        case nil: return "unknown"
        }
    }

    /// The timeline: one lane per service, one bar per deployment for each time its service
    /// showed it; failures and rollbacks marked; hover text with commit, digest and actor.
    ///
    /// Without --until the axis ends a little after the last change rather than at "now", so a
    /// quiet month does not squeeze the history into a corner; bars still live run to the edge.
    public static func timelineSVG(_ data: ReportData) -> String {
        let lanes = data.lanes
        let bars = lanes.flatMap(\.bars)
        let changes = bars.map(\.from.microseconds) + bars.compactMap { $0.until?.microseconds }
        let first = data.since?.microseconds ?? changes.min() ?? data.generatedAt.microseconds
        let last: Int64
        if let until = data.until {
            last = until.microseconds
        } else {
            let latest = max(changes.max() ?? first, first)
            last = latest + max((latest - first) / 12, 3_600_000_000)
        }
        let span = max(last - first, 1)
        let labelWidth = 150.0
        let plotWidth = 820.0
        let laneHeight = 40.0
        let top = 26.0
        let height = top + Double(max(lanes.count, 1)) * laneHeight + 8
        func x(_ time: Int64) -> Double { labelWidth + plotWidth * Double(min(max(time, first), last) - first) / Double(span) }
        var svg = "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(labelWidth + plotWidth + 10)) \(Int(height))\" "
        svg += "role=\"img\" aria-label=\"Deployment timeline\">\n"
        for tick in ticks(from: first, to: last) {
            svg += "<line class=\"tick\" x1=\"\(fmt(x(tick.time)))\" y1=\"\(Int(top - 6))\" x2=\"\(fmt(x(tick.time)))\" y2=\"\(Int(height - 4))\"/>"
            if x(tick.time) < labelWidth + plotWidth - 55 {
                svg += "<text class=\"tick-label\" x=\"\(fmt(x(tick.time) + 2))\" y=\"12\">\(escape(tick.label))</text>"
            }
            svg += "\n"
        }
        for (index, lane) in lanes.enumerated() {
            let y = top + Double(index) * laneHeight
            let barTop = y + 10
            let barHeight = laneHeight - 16
            svg += "<g class=\"lane\" data-service=\"\(escape(lane.service))\">\n"
            svg += "<text class=\"lane-label\" x=\"4\" y=\"\(fmt(barTop + barHeight / 2 + 4))\">\(escape(lane.service))</text>\n"
            svg += "<line class=\"lane-line\" x1=\"\(Int(labelWidth))\" y1=\"\(fmt(y + laneHeight - 2))\" x2=\"\(Int(labelWidth + plotWidth))\" y2=\"\(fmt(y + laneHeight - 2))\"/>\n"
            // Failures last, so a short one stays on top of the bar that replaced it.
            let failedLast = lane.bars.filter { $0.status != .failed && $0.status != .rolledBack }
                + lane.bars.filter { $0.status == .failed || $0.status == .rolledBack }
            for bar in failedLast {
                let failed = bar.status == .failed || bar.status == .rolledBack
                let start = x(bar.from.microseconds)
                // A failure that lasted minutes in a month must still be visible.
                let width = max(x(bar.until?.microseconds ?? last) - start, failed ? 6 : 2)
                var hover = "\(bar.taskDefinition ?? "?") — \(bar.status.rawValue)\(bar.rollback ? " (rollback)" : "")\n"
                hover += "deployment \(bar.deploymentID)\ncommit \(bar.commit ?? "unknown")\ndigest \(bar.digest ?? "unknown")\n"
                hover += "by \(bar.actor ?? "unknown")\n\(bar.from.rfc3339) → \(bar.until?.rfc3339 ?? "now")"
                svg += "<rect class=\"bar \(statusClass(bar.status))\(bar.rollback ? " rollback" : "")\(bar.until == nil ? " live" : "")\" "
                svg += "data-deployment=\"\(escape(bar.deploymentID))\" x=\"\(fmt(start))\" y=\"\(fmt(barTop))\" width=\"\(fmt(width))\" "
                svg += "height=\"\(fmt(barHeight))\" rx=\"3\"><title>\(escape(hover))</title></rect>\n"
                if let revision = bar.taskDefinition, width > 60 {
                    let label = (bar.rollback ? "↩ " : "") + revision
                    svg += "<text class=\"bar-label\" x=\"\(fmt(start + 4))\" y=\"\(fmt(barTop + barHeight / 2 + 3.5))\">\(escape(label))</text>\n"
                } else if bar.rollback {
                    svg += "<text class=\"marker\" x=\"\(fmt(start))\" y=\"\(fmt(barTop - 2))\">↩</text>\n"
                }
                if failed {
                    svg += "<text class=\"marker failed-marker\" x=\"\(fmt(start + width / 2 - 4))\" y=\"\(fmt(barTop - 1))\">✗</text>\n"
                }
            }
            svg += "</g>\n"
        }
        return svg + "</svg>"
    }

    /// Axis ticks at day, week (Monday) or month starts — whichever gives at most about a dozen —
    /// or every few hours for a short period.
    static func ticks(from first: Int64, to last: Int64) -> [(time: Int64, label: String)] {
        let hour: Int64 = 3_600_000_000
        let span = last - first
        if span <= 2 * 24 * hour {
            let step = span <= 12 * hour ? hour : 6 * hour
            var time = (first / step + 1) * step
            var ticks: [(Int64, String)] = []
            while time < last && ticks.count < 100 {
                let text = Timestamp(microseconds: time).rfc3339
                ticks.append((time, String(text.dropFirst(5).prefix(11)).replacingAll("T", with: " ")))
                time += step
            }
            return ticks
        }
        let period: MetricsPeriod = span <= 14 * 24 * hour ? .day : (span <= 90 * 24 * hour ? .week : .month)
        var time = period.start(of: Timestamp(microseconds: first))
        if time.microseconds < first { time = period.next(after: time) }
        var ticks: [(Int64, String)] = []
        while time.microseconds < last && ticks.count < 100 {
            ticks.append((time.microseconds, String(time.rfc3339.prefix(period == .month ? 7 : 10))))
            time = period.next(after: time)
        }
        return ticks.count > 16 ? stride(from: 0, to: ticks.count, by: (ticks.count + 11) / 12).map { ticks[$0] } : ticks
    }

    static func fmt(_ value: Double) -> String {
        String(format1: value)
    }

    public static func escape(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        // Controls are not text in HTML either, and the report may be printed to a terminal.
        return TerminalText.escaped(result)
    }

    static let stylesheet = """
        :root { --bg: #ffffff; --fg: #1d2330; --muted: #5d6778; --line: #d9dde5; --card: #f5f7fa;
                --completed: #2f9e63; --progress: #3b7dd8; --failed: #d64545; --superseded: #9aa3b2; --bar-text: #ffffff; }
        @media (prefers-color-scheme: dark) {
          :root { --bg: #12151c; --fg: #e4e8ef; --muted: #9aa4b5; --line: #2c3340; --card: #1b2029;
                  --completed: #3fbf7a; --progress: #5b9bef; --failed: #ef6b6b; --superseded: #6b7486; --bar-text: #0b0f14; }
        }
        body { background: var(--bg); color: var(--fg); font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
               margin: 2rem auto; max-width: 1000px; padding: 0 1rem; }
        h1 { margin-bottom: .2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
        .meta, .legend { color: var(--muted); } code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
        table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
        th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { color: var(--muted); font-weight: 600; }
        .metrics { display: grid; grid-template-columns: repeat(4, 1fr); gap: .75rem; margin-top: 1rem; }
        .metric { background: var(--card); border-radius: 8px; padding: .75rem; }
        .metric .label { color: var(--muted); font-size: 12px; } .metric .value { font-size: 24px; font-weight: 650; }
        .metric .detail { color: var(--muted); font-size: 12px; }
        .status.completed { color: var(--completed); } .status.in_progress { color: var(--progress); }
        .status.failed { color: var(--failed); font-weight: 600; } .status.superseded { color: var(--superseded); }
        svg.timeline { width: 100%; height: auto; background: var(--card); border-radius: 8px; }
        svg .tick { stroke: var(--line); } svg .lane-line { stroke: var(--line); }
        svg text { fill: var(--fg); font-size: 11px; } svg .tick-label { fill: var(--muted); font-size: 9px; }
        svg .lane-label { font-weight: 600; } svg .bar-label { fill: var(--bar-text); font-size: 10px; pointer-events: none; }
        svg .bar.completed { fill: var(--completed); } svg .bar.in_progress { fill: var(--progress); }
        svg .bar.failed { fill: var(--failed); } svg .bar.superseded { fill: var(--superseded); } svg .bar.unknown { fill: var(--superseded); }
        svg .bar.rollback { stroke: var(--fg); stroke-dasharray: 3 2; }
        svg .marker { font-size: 12px; font-weight: 700; } svg .failed-marker { fill: var(--failed); }
        .key { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: middle; margin-left: .6rem; }
        .key.completed { background: var(--completed); } .key.in_progress { background: var(--progress); }
        .key.failed { background: var(--failed); } .key.superseded { background: var(--superseded); }
        @media print {
          :root { --bg: #ffffff; --fg: #000000; --muted: #444444; --card: #ffffff; --line: #bbbbbb; }
          body { margin: 0; max-width: none; } .metrics { break-inside: avoid; } svg.timeline { break-inside: avoid; }
          table { break-inside: auto; } tr { break-inside: avoid; } h2 { break-after: avoid; }
        }
        """
}

extension String {
    init(format1 value: Double) {
        let scaled = Int64((value * 10).rounded())
        self = "\(scaled < 0 ? "-" : "")\(abs(scaled) / 10).\(abs(scaled) % 10)"
    }

    func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: Substring(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
