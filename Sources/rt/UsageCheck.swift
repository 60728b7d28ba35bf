import ArgumentParser

/// Reads part of the command line from a `validate()` with code that throws its own errors (an
/// eps that is not a number, an attack without that norm): whatever it throws is then a usage
/// error, printed with the usage and exit status 2 (`CommandExit`), like a `ValidationError`.
enum UsageCheck {
    static func reading<T>(_ read: () throws -> T) throws -> T {
        do {
            return try read()
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError(RT.message(for: error))
        }
    }
}
