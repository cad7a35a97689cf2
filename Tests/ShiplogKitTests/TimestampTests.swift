import ShiplogKit
import Testing

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2020-05-23T12:31:14Z", "2020-05-23T12:31:14Z"),
        ("2023-05-02T14:19:14.98Z", "2023-05-02T14:19:14.980Z"),
        ("2023-05-02T14:19:19.928Z", "2023-05-02T14:19:19.928Z"),
        ("2019-05-06T11:26:00.831123Z", "2019-05-06T11:26:00.831123Z"),
        ("2019-05-06T11:26:00.8311239Z", "2019-05-06T11:26:00.831123Z"),
        ("2022-11-01T18:29:00+09:00", "2022-11-01T09:29:00Z"),
        ("2022-11-01T18:29:00+0900", "2022-11-01T09:29:00Z"),
        ("2020-02-20T13:12:11.123-04:00", "2020-02-20T17:12:11.123Z"),
        ("2024-02-29 23:59:59Z", "2024-02-29T23:59:59Z"),
        ("2024-02-29", "2024-02-29T00:00:00Z"),
        ("1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59.500Z"),
    ])
    func parsesISO8601Exactly(text: String, expected: String) throws {
        let time = try #require(Timestamp(iso8601: text))
        #expect(time.rfc3339 == expected)
        #expect(Timestamp(iso8601: time.rfc3339) == time)
    }

    @Test(arguments: ["2023-02-29T00:00:00Z", "2023-13-01T00:00:00Z", "2023-01-01T24:00:00Z", "yyyy-mm-ddThh:mm:ssZ",
                      "2023-01-01T00:00:00.Z", "2023-01-01T00:00:00Q", ""])
    func rejectsTimesThatAreNotOnes(text: String) {
        #expect(Timestamp(iso8601: text) == nil)
    }

    @Test func parsesEpochSecondsWithFractionAndMillisecondsExactly() throws {
        #expect(Timestamp(epoch: "1557128360.831")?.microseconds == 1_557_128_360_831_000)
        #expect(Timestamp(epoch: "1557128360")?.microseconds == 1_557_128_360_000_000)
        #expect(Timestamp(epoch: "1570222452000")?.microseconds == 1_570_222_452_000_000)
        #expect(Timestamp(epoch: "1.5e9") == nil)
    }

    @Test func relativeExpressionsCountBackFromNow() {
        let now = Timestamp.utc(year: 2026, month: 11, day: 27, hour: 12)
        #expect(TimeExpression.parse("7d", now: now) == Timestamp.utc(year: 2026, month: 11, day: 20, hour: 12))
        #expect(TimeExpression.parse("12h", now: now) == Timestamp.utc(year: 2026, month: 11, day: 27))
        #expect(TimeExpression.parse("soon", now: now) == nil)
    }
}
