/* The playground's WebSocket: the token, the first message, commands and files.
 *
 * Classic script defining GlassnetPlaygroundSocket. The page reads the token of
 * this run from its URL fragment (browsers never send fragments to a server) and
 * sends it, with the configuration in the URL's query, as the socket's first
 * message; the server closes the socket with 1008 when the token is wrong.
 * Files the server sends (the data, the model, the page, the script) arrive as
 * base64 and are saved through a download link.
 */
(function (root) {
  "use strict";

  /** The token in a URL fragment such as "#token=abc" (null when absent). */
  function tokenFromHash(hash) {
    var match = /(?:^|[#&])token=([^&]+)/.exec(hash);
    return match ? decodeURIComponent(match[1]) : null;
  }

  /** The configuration a URL's query asks for: {key: text}. */
  function urlConfig(search) {
    var patch = {};
    new URLSearchParams(search).forEach(function (value, key) { patch[key] = value; });
    return patch;
  }

  /** What the page says when the socket closes with `code`. */
  function closeReason(code) {
    return code === 1008 ? "refused: the token does not match this server"
      : "disconnected (" + code + "): restart glassnet playground and open its link";
  }

  /**
   * Open the socket to this page's server and send the token first.
   * handlers: onMessage(parsed JSON), onClose(code). Returns {send, isOpen}.
   */
  function connect(token, handlers) {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws");
    socket.addEventListener("open", function () {
      socket.send(JSON.stringify({token: token, config: urlConfig(location.search)}));
    });
    socket.addEventListener("message", function (event) {
      handlers.onMessage(JSON.parse(event.data));
    });
    socket.addEventListener("close", function (event) { handlers.onClose(event.code); });
    return {
      isOpen: function () { return socket.readyState === WebSocket.OPEN; },
      send: function (name, args) {
        if (socket.readyState !== WebSocket.OPEN) {
          throw new Error("not connected to the playground server");
        }
        socket.send(JSON.stringify({command: name, args: args || {}}));
      },
    };
  }

  /** The text of a base64 file message (for the script shown in the page). */
  function fileText(message) { return atob(message.base64); }

  /** Save a base64 file message {name, mime, base64} through a download link. */
  function saveFile(message) {
    var bytes = atob(message.base64), array = new Uint8Array(bytes.length);
    for (var i = 0; i < bytes.length; i++) array[i] = bytes.charCodeAt(i);
    var link = document.createElement("a");
    link.setAttribute("download", message.name);
    link.href = URL.createObjectURL(new Blob([array], {type: message.mime}));
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  root.GlassnetPlaygroundSocket = {
    closeReason: closeReason,
    connect: connect,
    fileText: fileText,
    saveFile: saveFile,
    tokenFromHash: tokenFromHash,
    urlConfig: urlConfig,
  };
})(typeof self !== "undefined" ? self : this);
