package dev.byok.kms.local;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;

/**
 * A parsed key policy and the subset of AWS policy evaluation the local KMS models (documented in
 * {@link InMemoryKms#putKeyPolicy}). Immutable. Anything outside the subset is refused at parse
 * time with {@code MalformedPolicyDocumentException}, so a policy is never evaluated differently
 * from what it says.
 */
@NullMarked
final class KeyPolicy {
  static final String EC_PREFIX = "kms:encryptioncontext:";
  static final String EC_KEYS = "kms:encryptioncontextkeys";
  private static final Set<String> TOP_LEVEL = Set.of("Version", "Id", "Statement");
  private static final Set<String> STATEMENT_MEMBERS =
      Set.of("Sid", "Effect", "Principal", "Action", "Resource", "Condition");
  private static final Pattern ACCOUNT = Pattern.compile("[0-9]{12}");
  private static final Pattern ROOT = Pattern.compile("arn:aws[a-z-]*:iam::([0-9]{12}):root");

  private final String text;
  private final List<Statement> statements;

  /** One statement: effect, principals, action patterns, conditions (all must hold). */
  private record Statement(
      boolean allow, List<String> principals, List<Pattern> actions, List<Condition> conditions) {}

  /** One condition: an operator, a condition key and its values (any value may match). */
  private record Condition(String operator, String key, List<String> values) {}

  private KeyPolicy(String text, List<Statement> statements) {
    this.text = text;
    this.statements = statements;
  }

  /** {@return the policy document exactly as it was put} */
  String text() {
    return text;
  }

  /**
   * The policy AWS gives a key created without one: the account root may do everything, which (IAM
   * policies not being modelled) lets every caller of the account do everything.
   */
  static KeyPolicy defaultPolicy(String accountId) {
    return parse(
        "{\n"
            + "  \"Version\": \"2012-10-17\",\n"
            + "  \"Id\": \"key-default-1\",\n"
            + "  \"Statement\": [\n"
            + "    {\n"
            + "      \"Sid\": \"Enable IAM User Permissions\",\n"
            + "      \"Effect\": \"Allow\",\n"
            + "      \"Principal\": {\"AWS\": \"arn:aws:iam::"
            + accountId
            + ":root\"},\n"
            + "      \"Action\": \"kms:*\",\n"
            + "      \"Resource\": \"*\"\n"
            + "    }\n"
            + "  ]\n"
            + "}");
  }

  /**
   * Parses and checks a policy document.
   *
   * @throws LocalKmsException {@code MalformedPolicyDocumentException} naming what is wrong or not
   *     modelled
   */
  static KeyPolicy parse(String text) {
    JsonElement root;
    try {
      root = JsonParser.parseString(text);
    } catch (JsonParseException e) {
      throw malformed("the policy is not valid JSON");
    }
    if (!root.isJsonObject()) {
      throw malformed("the policy must be a JSON object");
    }
    JsonObject doc = root.getAsJsonObject();
    for (String member : doc.keySet()) {
      if (!TOP_LEVEL.contains(member)) {
        throw malformed("unknown or unmodelled policy element '" + member + "'");
      }
    }
    JsonElement version = doc.get("Version");
    if (version != null && !isString(version, "2012-10-17") && !isString(version, "2008-10-17")) {
      throw malformed("Version must be 2012-10-17 or 2008-10-17");
    }
    JsonElement statementElement = doc.get("Statement");
    if (statementElement == null) {
      throw malformed("the policy has no Statement");
    }
    List<Statement> statements = new ArrayList<>();
    if (statementElement.isJsonArray()) {
      for (JsonElement e : statementElement.getAsJsonArray()) {
        statements.add(statement(e));
      }
    } else {
      statements.add(statement(statementElement));
    }
    if (statements.isEmpty()) {
      throw malformed("the policy has no statement");
    }
    return new KeyPolicy(text, List.copyOf(statements));
  }

  /**
   * Evaluates a request: an explicit Deny wins, else an Allow allows, else it is denied.
   *
   * @param caller the caller's principal ARN
   * @param action e.g. {@code kms:Decrypt}
   * @param context the request's encryption context (empty when the operation carries none)
   * @return whether the request is allowed
   */
  boolean allows(String caller, String action, Map<String, String> context) {
    boolean allowed = false;
    for (Statement s : statements) {
      if (applies(s, caller, action, context)) {
        if (!s.allow()) {
          return false;
        }
        allowed = true;
      }
    }
    return allowed;
  }

  private static boolean applies(
      Statement s, String caller, String action, Map<String, String> context) {
    return s.principals().stream().anyMatch(p -> principalMatches(p, caller))
        && s.actions().stream().anyMatch(a -> a.matcher(action).matches())
        && s.conditions().stream().allMatch(c -> holds(c, context));
  }

  /**
   * {@code *} matches everyone; an account root ({@code arn:aws:iam::<account>:root} or the bare
   * account id) matches every caller of that account (IAM policies are not modelled: the account is
   * taken to allow); any other ARN matches exactly that principal.
   */
  private static boolean principalMatches(String principal, String caller) {
    if (principal.equals("*") || principal.equals(caller)) {
      return true;
    }
    String account = null;
    var root = ROOT.matcher(principal);
    if (root.matches()) {
      account = root.group(1);
    } else if (ACCOUNT.matcher(principal).matches()) {
      account = principal;
    }
    return account != null && account.equals(accountOf(caller));
  }

  private static String accountOf(String principalArn) {
    String[] parts = principalArn.split(":", 6);
    return parts.length >= 5 ? parts[4] : "";
  }

  private static boolean holds(Condition c, Map<String, String> context) {
    if (c.key().equals(EC_KEYS)) {
      // ForAllValues:StringEquals: every key of the request is listed (true for an empty context,
      // as in AWS)
      return context.keySet().stream().allMatch(c.values()::contains);
    }
    String contextKey = c.key().substring(EC_PREFIX.length());
    String value = null;
    for (Map.Entry<String, String> e : context.entrySet()) {
      // condition key names are case-insensitive in AWS; the context's values are not
      if (e.getKey().toLowerCase(Locale.ROOT).equals(contextKey)) {
        value = e.getValue();
      }
    }
    if (value == null) {
      return false;
    }
    String v = value;
    return c.operator().equals("StringEquals")
        ? c.values().contains(v)
        : c.values().stream().anyMatch(pattern -> glob(pattern, false).matcher(v).matches());
  }

  private static Statement statement(JsonElement e) {
    if (!e.isJsonObject()) {
      throw malformed("a Statement must be a JSON object");
    }
    JsonObject o = e.getAsJsonObject();
    for (String member : o.keySet()) {
      if (!STATEMENT_MEMBERS.contains(member)) {
        throw malformed(
            "statement element '" + member + "' is not modelled by the local KMS (" + sid(o) + ")");
      }
    }
    JsonElement effect = o.get("Effect");
    boolean allow;
    if (effect != null && isString(effect, "Allow")) {
      allow = true;
    } else if (effect != null && isString(effect, "Deny")) {
      allow = false;
    } else {
      throw malformed("Effect must be Allow or Deny (" + sid(o) + ")");
    }
    List<String> principals = principals(o.get("Principal"), o);
    List<Pattern> actions = new ArrayList<>();
    for (String a : strings(o.get("Action"), "Action", o)) {
      if (!a.equals("*") && !a.toLowerCase(Locale.ROOT).startsWith("kms:")) {
        throw malformed(
            "Action must be kms:<Operation>, kms:* or *, was '" + a + "' (" + sid(o) + ")");
      }
      actions.add(glob(a, true));
    }
    strings(o.get("Resource"), "Resource", o); // in a key policy every resource means this key
    List<Condition> conditions = new ArrayList<>();
    JsonElement condition = o.get("Condition");
    if (condition != null) {
      if (!condition.isJsonObject()) {
        throw malformed("Condition must be a JSON object (" + sid(o) + ")");
      }
      for (Map.Entry<String, JsonElement> op : condition.getAsJsonObject().entrySet()) {
        conditions.addAll(conditions(op.getKey(), op.getValue(), o));
      }
    }
    return new Statement(allow, principals, List.copyOf(actions), List.copyOf(conditions));
  }

  private static List<Condition> conditions(String operator, JsonElement body, JsonObject o) {
    if (!body.isJsonObject()) {
      throw malformed(
          "Condition operator " + operator + " must map keys to values (" + sid(o) + ")");
    }
    List<Condition> out = new ArrayList<>();
    for (Map.Entry<String, JsonElement> k : body.getAsJsonObject().entrySet()) {
      String key = k.getKey().toLowerCase(Locale.ROOT);
      List<String> values = strings(k.getValue(), operator + " " + k.getKey(), o);
      boolean contextValue = key.startsWith(EC_PREFIX) && key.length() > EC_PREFIX.length();
      if ((operator.equals("StringEquals") || operator.equals("StringLike")) && contextValue) {
        out.add(new Condition(operator, key, values));
      } else if (operator.equals("ForAllValues:StringEquals") && key.equals(EC_KEYS)) {
        out.add(new Condition(operator, key, values));
      } else {
        throw malformed(
            "condition "
                + operator
                + " on "
                + k.getKey()
                + " is not modelled by the local KMS; it models StringEquals and StringLike on"
                + " kms:EncryptionContext:<key> and ForAllValues:StringEquals on"
                + " kms:EncryptionContextKeys ("
                + sid(o)
                + ")");
      }
    }
    return out;
  }

  private static List<String> principals(@Nullable JsonElement p, JsonObject o) {
    if (p == null) {
      throw malformed("every statement needs a Principal (" + sid(o) + ")");
    }
    if (isString(p, "*")) {
      return List.of("*");
    }
    if (!p.isJsonObject() || p.getAsJsonObject().size() != 1 || !p.getAsJsonObject().has("AWS")) {
      throw malformed(
          "Principal must be \"*\" or {\"AWS\": <ARN or list of ARNs>} (" + sid(o) + ")");
    }
    List<String> out = strings(p.getAsJsonObject().get("AWS"), "Principal AWS", o);
    for (String arn : out) {
      if (!arn.equals("*")
          && !ACCOUNT.matcher(arn).matches()
          && !arn.matches("arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:.+")) {
        throw malformed("'" + arn + "' is not a valid principal (" + sid(o) + ")");
      }
    }
    return out;
  }

  private static List<String> strings(@Nullable JsonElement e, String what, JsonObject o) {
    List<String> out = new ArrayList<>();
    if (e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()) {
      out.add(e.getAsString());
    } else if (e != null && e.isJsonArray()) {
      for (JsonElement v : e.getAsJsonArray()) {
        if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
          throw malformed(what + " must hold strings (" + sid(o) + ")");
        }
        out.add(v.getAsString());
      }
    }
    if (out.isEmpty()) {
      throw malformed(what + " must be a string or a non-empty list of strings (" + sid(o) + ")");
    }
    return List.copyOf(out);
  }

  /** {@code *} and {@code ?} wildcards; actions compare case-insensitively, as in IAM. */
  private static Pattern glob(String pattern, boolean ignoreCase) {
    StringBuilder re = new StringBuilder();
    for (char ch : pattern.toCharArray()) {
      if (ch == '*') {
        re.append(".*");
      } else if (ch == '?') {
        re.append('.');
      } else {
        re.append(Pattern.quote(String.valueOf(ch)));
      }
    }
    return Pattern.compile(re.toString(), ignoreCase ? Pattern.CASE_INSENSITIVE : 0);
  }

  private static boolean isString(JsonElement e, String value) {
    return e.isJsonPrimitive()
        && e.getAsJsonPrimitive().isString()
        && e.getAsString().equals(value);
  }

  private static String sid(JsonObject o) {
    JsonElement sid = o.get("Sid");
    return sid != null && sid.isJsonPrimitive()
        ? "Sid " + sid.getAsString()
        : "statement without Sid";
  }

  private static LocalKmsException malformed(String message) {
    return new LocalKmsException(LocalKmsException.MALFORMED_POLICY_DOCUMENT, message);
  }
}
