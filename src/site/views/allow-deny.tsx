/** The two answers of a consent form (its `decision` field), as every consent page offers them. */
export function AllowDeny() {
  return (
    <>
      <button type="submit" name="decision" value="allow" id="allow">
        Allow
      </button>
      <button type="submit" name="decision" value="deny" id="deny" class="secondary">
        Deny
      </button>
    </>
  );
}
