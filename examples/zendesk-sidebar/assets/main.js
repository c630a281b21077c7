/* The ticket's change requests, read from the billing gateway through Zendesk's proxy.
 *
 * The API key is a secure setting: this code only ever writes the placeholder
 * {{setting.api_key}} into a header of a request marked `secure: true`; Zendesk's proxy
 * replaces it on its side, so the key never reaches the browser (nor any URL or log).
 */
(function () {
  "use strict";

  var client = ZAFClient.init();
  var list = document.getElementById("requests");

  function gatewayRequest(gatewayUrl, path) {
    return client.request({
      url: gatewayUrl.replace(/\/+$/, "") + path,
      type: "GET",
      headers: { Authorization: "Bearer {{setting.api_key}}" },
      secure: true, // the proxy fills in the secure setting
      cors: false, // through Zendesk's proxy, never straight from the browser
      dataType: "json"
    });
  }

  function text(tag, className, value) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    node.textContent = value; // never innerHTML: the data comes from outside this page
    return node;
  }

  function summary(request) {
    var payload = request.payload || {};
    if (payload.kind === "iban_change") return "New bank account " + payload.iban_masked;
    if (payload.kind === "plan_change") return "Plan change to " + payload.target_tier.name;
    return request.kind;
  }

  function show(requests) {
    list.textContent = "";
    if (!requests.length) {
      list.appendChild(text("p", "muted", "No billing change request for this ticket."));
      return;
    }
    requests.forEach(function (request) {
      var item = document.createElement("div");
      item.className = "request";
      item.appendChild(text("div", null, summary(request)));
      item.appendChild(text("div", "status", request.status.replace(/_/g, " ")));
      var who = request.assignee ? "with " + request.assignee.display_name : "not assigned yet";
      item.appendChild(text("div", "muted", who));
      if (request.outcome) {
        item.appendChild(text("div", "muted", "Providers: " + request.outcome.outcome));
      }
      list.appendChild(item);
    });
    client.invoke("resize", { width: "100%", height: document.body.scrollHeight + "px" });
  }

  function explain(failure) {
    // Every gateway error is application/problem+json with a sentence in `detail`, and a
    // `type` URL whose page says what to do.
    var problem = failure && failure.responseJSON;
    var sentence = problem && problem.detail ? problem.detail : "The billing gateway did not answer.";
    list.textContent = "";
    list.appendChild(text("p", "problem", sentence));
  }

  Promise.all([client.metadata(), client.get("ticket.id")])
    .then(function (answers) {
      var gatewayUrl = answers[0].settings.gateway_url;
      var ticket = "zendesk:" + answers[1]["ticket.id"];
      return gatewayRequest(
        gatewayUrl,
        "/v1/change-requests?ticket=" + encodeURIComponent(ticket)
      ).then(function (page) {
        // One request's read gives who has it and how it ended (the list does not).
        return Promise.all(
          page.items.map(function (item) {
            return gatewayRequest(gatewayUrl, "/v1/change-requests/" + item.id);
          })
        );
      });
    })
    .then(show, explain);
})();
