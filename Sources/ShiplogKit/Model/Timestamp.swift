/// A moment in UTC, exact to the microsecond, as every source format can express it.
///
/// Stored as microseconds since the Unix epoch so that parsing and printing never go through
/// floating point: `1557128360.831` from the AWS CLI is exactly `…360831000` µs.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var microseconds: Int64

    public init(microseconds: Int64) {
        self.microseconds = microseconds
    }

    public init(seconds: Int64) {
        microseconds = seconds * 1_000_000
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.microseconds < rhs.microseconds
    }

    public var description: String { rfc3339 }

    public static func + (lhs: Timestamp, seconds: Int64) -> Timestamp {
        Timestamp(microseconds: lhs.microseconds + seconds * 1_000_000)
    }

    /// RFC 3339 in UTC; fractional digits only when the moment has them (3 or 6 digits).
    public var rfc3339: String {
        var seconds = microseconds / 1_000_000
        var fraction = microseconds % 1_000_000
        if fraction < 0 {
            fraction += 1_000_000
            seconds -= 1
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = Self.civilDate(fromDays: days)
        var text = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T"
        text += pad(secondOfDay / 3600, 2) + ":" + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2)
        if fraction != 0 {
            text += fraction % 1000 == 0 ? "." + pad(fraction / 1000, 3) : "." + pad(fraction, 6)
        }
        return text + "Z"
    }

    /// Seconds precision, for tables.
    public var shortRFC3339: String {
        let text = Timestamp(microseconds: microseconds - ((microseconds % 1_000_000) + 1_000_000) % 1_000_000).rfc3339
        return text
    }

    private func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    // Days since 1970-01-01 <-> proleptic Gregorian date (Howard Hinnant's algorithms).
    static func civilDate(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The calendar parts in UTC: (year, month, day, hour, minute, second).
    public var utcParts: (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        let seconds = microseconds >= 0 ? microseconds / 1_000_000 : (microseconds - 999_999) / 1_000_000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (y, m, d) = Self.civilDate(fromDays: days)
        return (Int(y), Int(m), Int(d), Int(secondOfDay / 3600), Int(secondOfDay / 60 % 60), Int(secondOfDay % 60))
    }

    public static func utc(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) -> Timestamp {
        let days = Self.days(year: Int64(year), month: Int64(month), day: Int64(day))
        return Timestamp(seconds: days * 86_400 + Int64(hour) * 3600 + Int64(minute) * 60 + Int64(second))
    }
}

extension Timestamp {
    /// Parses ISO 8601 / RFC 3339 text: `2026-11-27T10:00:00Z`, with or without fractional
    /// seconds (any number of digits, kept to the microsecond), with `Z`, `+09:00`, `+0900` or no
    /// zone (read as UTC), and a space allowed instead of `T`. Returns nil when it is not one.
    public init?(iso8601 text: String) {
        var utf8 = Array(text.utf8)
        guard utf8.count >= 10 else { return nil }
        var index = 0
        func number(_ width: Int) -> Int64? {
            guard index + width <= utf8.count else { return nil }
            var value: Int64 = 0
            for _ in 0..<width {
                let byte = utf8[index]
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int64(byte - 48)
                index += 1
            }
            return value
        }
        func expect(_ byte: UInt8) -> Bool {
            guard index < utf8.count, utf8[index] == byte else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(UInt8(ascii: "-")), let month = number(2), expect(UInt8(ascii: "-")),
            let day = number(2), (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year)
        else { return nil }
        var hour: Int64 = 0
        var minute: Int64 = 0
        var second: Int64 = 0
        var micros: Int64 = 0
        var offsetSeconds: Int64 = 0
        if index < utf8.count {
            guard utf8[index] == UInt8(ascii: "T") || utf8[index] == UInt8(ascii: "t") || utf8[index] == 32 else {
                return nil
            }
            index += 1
            guard let h = number(2), expect(UInt8(ascii: ":")), let m = number(2), h < 24, m < 60 else { return nil }
            hour = h
            minute = m
            if expect(UInt8(ascii: ":")) {
                guard let s = number(2), s <= 60 else { return nil }
                second = min(s, 59)  // a leap second is folded into :59
            }
            if index < utf8.count, utf8[index] == UInt8(ascii: ".") || utf8[index] == UInt8(ascii: ",") {
                index += 1
                var digits = 0
                while index < utf8.count, utf8[index] >= 48, utf8[index] <= 57 {
                    if digits < 6 { micros = micros * 10 + Int64(utf8[index] - 48) }
                    digits += 1
                    index += 1
                }
                guard digits > 0 else { return nil }
                for _ in digits..<max(digits, 6) { micros *= 10 }
            }
            if index < utf8.count {
                let sign = utf8[index]
                if sign == UInt8(ascii: "Z") || sign == UInt8(ascii: "z") {
                    index += 1
                } else if sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                    index += 1
                    guard let oh = number(2), oh < 24 else { return nil }
                    _ = expect(UInt8(ascii: ":"))
                    guard let om = number(2), om < 60 else { return nil }
                    offsetSeconds = (oh * 3600 + om * 60) * (sign == UInt8(ascii: "-") ? -1 : 1)
                } else {
                    return nil
                }
            }
            guard index == utf8.count else { return nil }
        }
        utf8 = []
        let days = Self.days(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        self.init(microseconds: seconds * 1_000_000 + micros)
    }

    /// Parses an epoch number as the AWS CLI prints it: seconds with optional fraction
    /// (`1557128360.831`), or integer milliseconds (values past year 5000 in seconds).
    public init?(epoch text: String) {
        var whole: Int64 = 0
        var micros: Int64 = 0
        var fractionDigits = 0
        var seenDot = false
        var negative = false
        var digits = 0
        for (offset, byte) in text.utf8.enumerated() {
            switch byte {
            case UInt8(ascii: "-") where offset == 0: negative = true
            case UInt8(ascii: "."):
                guard !seenDot else { return nil }
                seenDot = true
            case 48...57:
                digits += 1
                if seenDot {
                    if fractionDigits < 6 { micros = micros * 10 + Int64(byte - 48) }
                    fractionDigits += 1
                } else {
                    guard whole < 1_000_000_000_000_000 else { return nil }
                    whole = whole * 10 + Int64(byte - 48)
                }
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                return nil
            default: return nil
            }
        }
        guard digits > 0 else { return nil }
        for _ in fractionDigits..<max(fractionDigits, 6) { micros *= 10 }
        var value: Int64
        if !seenDot && whole >= 100_000_000_000 {
            value = whole * 1000  // milliseconds
        } else {
            value = whole * 1_000_000 + micros
        }
        if negative { value = -value }
        self.init(microseconds: value)
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
