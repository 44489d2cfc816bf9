using LiteDB;

namespace EdgeMeter.Agent.Storage;

/// <summary>
/// Query predicates whose text is the same whatever the value: the value travels as a parameter (<c>@0</c>).
/// </summary>
/// <remarks>
/// LiteDB 5.0.20 compiles an expression once per distinct text and keeps the compiled delegate in a process-wide
/// dictionary that it never trims (litedb-org/LiteDB#2807, every release since 5.0.5). Its own helpers
/// (<c>Query.GT("_id", 42)</c>) write the value into the text, so a query with a new value every poll is a new entry
/// every poll, about 4.6 KB each: the demo (its agent and ledger each query per record block) grew by about
/// 100 MB an hour. Everything in this process that queries with a value goes through here
/// (<c>LiteQueryTests</c> pins that a thousand values compile nothing new).
/// </remarks>
internal static class LiteQuery
{
    /// <summary><paramref name="field"/> = value.</summary>
    public static BsonExpression Equal(string field, BsonValue value) => BsonExpression.Create(field + " = @0", value);

    /// <summary><paramref name="field"/> &gt; value.</summary>
    public static BsonExpression Greater(string field, BsonValue value) => BsonExpression.Create(field + " > @0", value);

    /// <summary><paramref name="field"/> &gt;= value.</summary>
    public static BsonExpression AtLeast(string field, BsonValue value) => BsonExpression.Create(field + " >= @0", value);

    /// <summary><paramref name="field"/> &lt;= value.</summary>
    public static BsonExpression AtMost(string field, BsonValue value) => BsonExpression.Create(field + " <= @0", value);

    /// <summary><paramref name="field"/> between <paramref name="first"/> and <paramref name="last"/>, both included.</summary>
    public static BsonExpression Between(string field, BsonValue first, BsonValue last) =>
        BsonExpression.Create(field + " BETWEEN @0 AND @1", first, last);
}
