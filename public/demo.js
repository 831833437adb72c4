/* The demo page: window.AJAX (client.js + interface.js) beside jQuery. */
(function ($) {
  "use strict";

  const articles = AJAX.models.blog.article;
  const blog = AJAX.apps.blog;

  // ---- jQuery interop: Django's recipe, the token read from the cookie on every request ----

  function readCookie(name) {
    const match = document.cookie.split(";").map((part) => part.trim()).find((part) => part.startsWith(name + "="));
    return match ? decodeURIComponent(match.slice(name.length + 1)) : null;
  }

  $.ajaxSetup({
    beforeSend(xhr, settings) {
      if (!/^(GET|HEAD|OPTIONS)$/i.test(settings.type)) xhr.setRequestHeader("X-CSRFToken", readCookie("csrftoken"));
    },
  });

  // ---- small helpers ---------------------------------------------------------------------

  function log(text, kind) {
    const item = $("<li>").text(`${new Date().toLocaleTimeString()}  ${text}`).addClass(kind || "");
    $("#activity").prepend(item);
    $("#activity li").slice(30).remove();
  }

  function clearErrors(form) {
    $(form).find(".field-error").text("");
    $(form).closest(".card").find(".field-error").text("");
  }

  /** Shows an AJAXError: its field errors next to the fields, its message in `messageTarget`. */
  function showError(error, card, messageTarget) {
    const errors = (error && error.errors) || {};
    for (const [field, messages] of Object.entries(errors)) {
      $(card).find(`[data-error-for="${field}"]`).text(messages.join(" "));
    }
    if (messageTarget) $(messageTarget).text(`${error.message}${error.status ? ` (HTTP ${error.status})` : ""}`);
    log(`${error.status || "error"}: ${error.message}`, "bad");
  }

  // ---- session -----------------------------------------------------------------------------

  function setUser(user) {
    $("body").toggleClass("logged-in", Boolean(user)).toggleClass("logged-out", !user);
    $("#whoami").text(user ? `Logged in as ${user.username}${user.isStaff ? " (staff)" : ""}` : "Not logged in");
    if (user) loadArticles();
    else $("#article-list, #stats").empty();
    followArticles(Boolean(user));
  }

  async function loadStats() {
    try {
      const stats = await blog.stats();
      $("#stats").empty().append(Object.entries(stats).map(([name, count]) =>
        $("<div>").append($("<dt>").text(name), $("<dd>").text(count))));
    } catch (error) {
      showError(error, "#login-card");
    }
  }

  $("[data-user]").on("click", function () {
    const name = $(this).data("user");
    $("#login-username").val(name);
    $("#login-password").val(`${name}-password`);
  });

  $("#login-form").on("submit", async function (event) {
    event.preventDefault();
    $("#login-error").text("");
    try {
      const user = await AJAX.auth.login($("#login-username").val(), $("#login-password").val());
      log(`logged in as ${user.username}`, "good");
      setUser(user);
    } catch (error) {
      showError(error, "#login-card", "#login-error");
    }
  });

  $("#logout").on("click", async () => {
    await AJAX.auth.logout();
    log("logged out");
    setUser(null);
  });

  // ---- articles ----------------------------------------------------------------------------

  function renderArticle(article) {
    const item = $("<li>").addClass("article").attr("data-pk", article.id);
    const head = $("<div>").addClass("article-head");
    head.append($("<strong>").addClass("article-title").text(article.title || "(untitled)"));
    head.append($("<span>").addClass(article.published ? "badge good" : "badge").text(article.published ? "published" : "draft"));
    item.append(head);
    const author = article.author && typeof article.author === "object" ? article.author.username : `#${article.author}`;
    item.append($("<div>").addClass("meta").text(`by ${author} · ${new Date(article.createdAt).toLocaleString()}`));
    const tags = $("<div>").addClass("tags");
    for (const tag of article.tags || []) tags.append($("<span>").addClass("tag").text(tag.name));
    item.append(tags);
    const tagForm = $("<form>").addClass("tag-form row")
      .append($("<input>").attr({ name: "tag", placeholder: "add a tag", "aria-label": "tag" }))
      .append($("<button>").attr("type", "submit").addClass("secondary small").text("Tag"))
      .append($("<button>").attr("type", "button").addClass("secondary small history-button").text("History"));
    item.append(tagForm);
    item.append($("<ol>").addClass("history").attr("reversed", "reversed"));
    return item;
  }

  /** One line of an article's history (the audit feature's history.json), built as text: nothing in it becomes HTML. */
  function historyLine(entry) {
    const changes = Object.entries(entry.changes).map(([field, [before, after]]) =>
      `${field}: ${JSON.stringify(before)} → ${JSON.stringify(after)}`).join("; ");
    const who = entry.user === null ? "someone" : `user #${entry.user}`;
    return $("<li>").text(`${entry.op} by ${who}, ${new Date(entry.at).toLocaleString()}${changes ? ` — ${changes}` : ""}`);
  }

  $("#article-list").on("click", ".history-button", async function () {
    const item = $(this).closest("[data-pk]");
    const pk = item.data("pk");
    try {
      const entries = await articles.history(pk, { items_per_page: 10 });
      item.find(".history").empty().append(entries.map(historyLine));
      log(`history of article ${pk}: ${entries.length} change${entries.length === 1 ? "" : "s"}`, "good");
    } catch (error) {
      showError(error, "#articles-card", "#article-error");
    }
  });

  async function loadArticles() {
    try {
      const page = await articles.list({ items_per_page: 8 });
      $("#article-list").empty().append(page.data.map(renderArticle));
      $("#article-total").text(`${page.total} article${page.total === 1 ? "" : "s"} you may see`);
      loadStats();
    } catch (error) {
      showError(error, "#articles-card", "#article-error");
    }
  }

  $("#refresh-articles").on("click", loadArticles);

  // Other windows' writes arrive through the change feed (docs/live.md): each change as this
  // user's get would answer it, `deleted` when an article leaves this user's view.
  let stopFollowing = null;
  function followArticles(on) {
    if (stopFollowing) stopFollowing();
    stopFollowing = null;
    $("#live-status").text(on ? "live" : "").toggleClass("good", on);
    if (!on) return;
    stopFollowing = articles.subscribe({}, (change) => {
      const current = $(`#article-list > [data-pk="${change.data && (change.data.id ?? change.data.pk)}"]`);
      if (change.type === "resync") return loadArticles();
      if (change.type === "deleted") current.remove();
      else if (current.length > 0) current.replaceWith(renderArticle(change.data));
      else $("#article-list").prepend(renderArticle(change.data));
      log(`${change.type} article ${change.data.id ?? change.data.pk} (live)`);
    }, () => $("#live-status").text("offline").removeClass("good"));
  }

  $("#article-list").on("submit", ".tag-form", async function (event) {
    event.preventDefault();
    const pk = $(this).closest("[data-pk]").data("pk");
    const input = $(this).find("input");
    try {
      const tags = await articles.tags.add(pk, input.val());
      $(this).siblings(".tags").empty().append(tags.map((tag) => $("<span>").addClass("tag").text(tag.name)));
      input.val("");
      log(`tagged article ${pk}: ${tags.map((tag) => tag.name).join(", ")}`, "good");
    } catch (error) {
      showError(error, "#articles-card", "#article-error");
    }
  });

  $("#article-form").on("submit", async function (event) {
    event.preventDefault();
    const form = this;
    clearErrors(form);
    $("#article-error").text("");
    // A blank field is "not given", so a blank title is the server's "This field is required."
    const values = AJAX.formValues(form);
    for (const key of Object.keys(values)) if (values[key] === "") delete values[key];
    await AJAX.csrfToken(); // makes sure the cookie exists before jQuery reads it
    $.post(`${AJAX.prefix}/blog/article.json`, values)
      .done((response) => {
        log(`created article ${response.data.id} with $.post`, "good");
        form.reset();
        loadArticles();
      })
      .fail((xhr) => {
        const body = xhr.responseJSON || {};
        const error = { status: xhr.status, message: (body.data && body.data.message) || xhr.statusText, errors: body.errors };
        showError(error, "#articles-card", "#article-error");
      });
  });

  // ---- server commands ---------------------------------------------------------------------

  AJAX.register("flash", (selector) => {
    const element = document.querySelector(selector);
    if (!element) return;
    element.classList.remove("flash");
    void element.offsetWidth; // restart the animation
    element.classList.add("flash");
  });

  $("#say-hi").on("click", async () => {
    try {
      const data = await blog.say_hi();
      log(`say_hi answered "${data}"`, "good");
    } catch (error) {
      showError(error, "#commands-card");
    }
  });

  $("#greet-form").on("submit", async function (event) {
    event.preventDefault();
    clearErrors(this);
    try {
      const data = await blog.greet(AJAX.formValues(this));
      log(`greeted ${data.greeted}`, "good");
    } catch (error) {
      showError(error, "#commands-card");
    }
  });

  // ---- streaming ---------------------------------------------------------------------------

  $("#countdown-form").on("submit", async function (event) {
    event.preventDefault();
    clearErrors(this);
    $("#countdown-log").empty();
    const button = $(this).find("button").prop("disabled", true);
    try {
      // The server's text commands update #countdown as each batch arrives.
      for await (const n of blog.countdown.stream({ from: $("#countdown-from").val(), delayMs: 400 })) {
        $("#countdown-log").append($("<li>").text(`received ${n}`));
      }
      $("#countdown").text("Liftoff!");
      log("countdown finished", "good");
    } catch (error) {
      showError(error, "#stream-card");
    } finally {
      button.prop("disabled", false);
    }
  });

  // ---- upload ------------------------------------------------------------------------------

  $("#upload-form").on("submit", async function (event) {
    event.preventDefault();
    $("#upload-error").text("");
    $("#upload-result").empty();
    $("#upload-progress").val(0);
    try {
      const data = await AJAX.upload(this, "blog", "upload", {
        onProgress: (progress) => { if (progress.fraction !== null) $("#upload-progress").val(progress.fraction); },
      });
      $("#upload-progress").val(1);
      for (const file of data.files) {
        $("#upload-result").append($("<li>").text(`${file.name}: ${file.size} bytes, sha256 ${file.sha256.slice(0, 12)}…`));
      }
      log(`uploaded ${data.files.length} file(s)`, "good");
    } catch (error) {
      showError(error, "#upload-card", "#upload-error");
    }
  });

  // ---- form values -------------------------------------------------------------------------

  $("#read-form").on("click", () => {
    $("#form-values").text(JSON.stringify(AJAX.formValues("#profile-form"), null, 2));
  });

  $("#echo-form").on("click", async () => {
    try {
      const echoed = await blog.echo(AJAX.formValues("#profile-form"));
      $("#form-values").text(JSON.stringify(echoed, null, 2));
      log("echo answered", "good");
    } catch (error) {
      showError(error, "#form-card", "#form-values");
    }
  });

  // ---- start -------------------------------------------------------------------------------

  AJAX.auth.user().then(setUser, (error) => {
    if (error.status !== 401) showError(error, "#login-card", "#login-error");
    setUser(null);
  }).finally(() => $("body").addClass("ready"));
})(jQuery);
