// A Server-Sent Events parser (the WHATWG event-stream format) for a stream read with fetch(): the
// browser's EventSource cannot send an Authorization header, and the stream is authenticated as
// every other endpoint. Pure: feed it text as it arrives, it returns the events completed so far.

export interface SseEvent {
  id: string | null; // the id field of this event, or null when it had none
  event: string; // "message" when it had no event field
  data: string;
}

export class SseParser {
  private buffer = "";
  private id: string | null = null;
  private event = "";
  private data: string[] = [];
  private sawField = false;

  feed(text: string): SseEvent[] {
    this.buffer += text;
    const out: SseEvent[] = [];
    let nl: number;
    while ((nl = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, nl);
      const width = this.buffer.startsWith("\r\n", nl) ? 2 : 1;
      this.buffer = this.buffer.slice(nl + width);
      if (line === "") {
        if (this.sawField) out.push({ id: this.id, event: this.event || "message", data: this.data.join("\n") });
        this.id = null;
        this.event = "";
        this.data = [];
        this.sawField = false;
        continue;
      }
      if (line.startsWith(":")) continue; // a comment
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      this.sawField = true;
      if (field === "data") this.data.push(value);
      else if (field === "event") this.event = value;
      else if (field === "id") this.id = value;
    }
    return out;
  }
}
