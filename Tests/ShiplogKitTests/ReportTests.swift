import Foundation
import ShiplogKit
import ShiplogTestSupport
import Testing

/// The SVG timeline as the tests read it: each lane's service and its bars' deployment ids, left to right.
func lanesOfTimeline(_ html: String) -> [(service: String, deployments: [String])] {
    func attribute(_ name: String, in element: String) -> String {
        String(element.components(separatedBy: "\(name)=\"")[1].prefix { $0 != "\"" })
    }
    var lanes: [(String, [String])] = []
    for chunk in html.components(separatedBy: "<g class=\"lane\" data-service=\"").dropFirst() {
        let service = String(chunk.prefix { $0 != "\"" })
        let body = chunk.components(separatedBy: "</g>")[0]
        let bars = body.components(separatedBy: "<rect class=\"bar ").dropFirst().map { rect in
            (x: Double(attribute("x", in: rect))!, deployment: attribute("data-deployment", in: rect))
        }
        lanes.append((service, bars.sorted { $0.x < $1.x }.map(\.deployment)))
    }
    return lanes
}

@Suite struct ReportTests {
    let directory = TemporaryDirectory()

    func demoStore() throws -> EventStore {
        let store = try EventStore(path: directory.file("demo.db"), mode: .create)
        try store.append(DemoScenario.documents())
        return store
    }

    @Test func theTimelineHasALanePerServiceAndABarPerRevisionWhileItWasLive() throws {
        let store = try demoStore()
        let html = ReportRenderer.html(try store.reportData())
        let lanes = lanesOfTimeline(html)
        #expect(lanes.map(\.service) == ["ML-PIPE/P1", "ML-PIPE/P2"])
        // Every demo deployment was what its service showed for a while, in the order they started:
        // P1 rev 1, 2, 3 (rolled back after minutes), then rev 2 again by the circuit breaker.
        for lane in lanes {
            let service = String(lane.service.split(separator: "/")[1])
            let history = try store.history(cluster: "ML-PIPE", service: service).reversed()
            #expect(lane.deployments == history.map { $0.deploymentID ?? $0.key })
        }
        #expect(lanes[0].deployments.count == 4)
        #expect(lanes[1].deployments.count == 2)
        // The failure and the rollback are marked, with hover text naming commit, digest and actor.
        #expect(html.contains("<rect class=\"bar failed\""))
        #expect(html.contains("<rect class=\"bar completed rollback live\""))
        #expect(html.contains("✗</text>"))
        let rolledBack = try #require(try store.history(cluster: "ML-PIPE", service: "P1").first { $0.status == .rolledBack })
        #expect(html.contains("commit \(rolledBack.commit!)\ndigest \(rolledBack.images[0].digest!)\nby github-actions"))
    }

    @Test func aBarPerRunOfTimeTheServiceShowedIt() throws {
        // The metrics scenario: six releases, the circuit breaker's rollback, and rev4 again by hand.
        let store = try MetricsScript.scenario().store(in: directory)
        let lanes = lanesOfTimeline(ReportRenderer.html(try store.reportData()))
        #expect(lanes.count == 1)
        // After rev3 failed the service showed rev2 again until rev4: a second bar for rev2.
        #expect(lanes[0].deployments == [
            "ecs-svc/100", "ecs-svc/200", "ecs-svc/300", "ecs-svc/200", "ecs-svc/400", "ecs-svc/500", "ecs-svc/500-rb",
            "ecs-svc/600", "ecs-svc/manual-back",
        ])
        // A period shows only what was live in it, clipped to it.
        let second = try store.reportData(since: MetricsScript.at(2, 0), until: MetricsScript.at(2, 23))
        #expect(lanesOfTimeline(ReportRenderer.html(second))[0].deployments == ["ecs-svc/400", "ecs-svc/500", "ecs-svc/500-rb"])
        #expect(second.lanes[0].bars.first?.from == MetricsScript.at(2, 0))
        #expect(second.lanes[0].bars.last?.until == MetricsScript.at(2, 23))
    }

    @Test func theHTMLIsOneSelfContainedFileForLightDarkAndPrint() throws {
        let html = ReportRenderer.html(try demoStore().reportData())
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        for external in ["<script", "<link", "src=", "url(", "@import", "https://"] {
            #expect(!html.contains(external), "the report refers to something outside itself: \(external)")
        }
        #expect(html.components(separatedBy: "http://").count == 2)  // only the SVG namespace
        #expect(html.contains("xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(html.contains("@media (prefers-color-scheme: dark)"))
        #expect(html.contains("@media print"))
        for section in ["Deployment frequency", "Lead time for changes", "Change failure rate", "Time to restore", "What runs now",
                        "Failures", "Deployments in the period"] {
            #expect(html.contains(section))
        }
        #expect(html.contains("rolled back: ECS deployment circuit breaker: task failed to start."))
    }

    @Test func textFromTheLogIsEscaped() {
        #expect(ReportRenderer.escape("<img src=x onerror=\"a&b\">'") == "&lt;img src=x onerror=&quot;a&amp;b&quot;&gt;&#39;")
    }

    @Test func markdownHasTheSameSections() throws {
        let markdown = ReportRenderer.markdown(try demoStore().reportData())
        for heading in ["# Deployments", "## What runs now", "## Delivery metrics (DORA)", "## Failures",
                        "## Deployments in the period", "### ML-PIPE/P1", "### ML-PIPE/P2"] {
            #expect(markdown.contains("\n\(heading)\n") || markdown.hasPrefix("\(heading)\n"), "missing \(heading)")
        }
        #expect(markdown.contains("| Change failure rate | 20.0 % | 1 of 5 deployments |"))
    }

    @Test func theMermaidMapNestsServicesInClustersWithTheirRevisionAndTasks() throws {
        let store = try demoStore()
        let map = MermaidMap.render(try store.whereRunning())
        #expect(map.hasPrefix("flowchart TB\n"))
        #expect(map.contains("subgraph c0[\"cluster ML-PIPE\"]"))
        #expect(map.contains("subgraph c0s0[\"service P1\"]"))
        #expect(map.contains("subgraph c0s1[\"service P2\"]"))
        #expect(map.contains("c0s0r[\"p1-crawler:2 · COMPLETED"))
        #expect(map.contains("c0s0t[[\"tasks: 4 running / 4 desired\"]]"))
        #expect(map.components(separatedBy: "\n  end\n").count == 2)
        var script = ReleaseScript()
        script.release(1, outcome: "completed", actor: "ci \"bot\" <x>#1")
        let escaped = MermaidMap.render(try script.store(in: TemporaryDirectory()).whereRunning())
        #expect(escaped.contains(" by ci #quot;bot#quot; #lt;x#gt;#35;1\"]"))
    }
}
