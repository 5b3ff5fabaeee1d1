// The reference's Node.js WebSocket example (the `ws` package), the comparison
// point for the closed loop in benchmarks/ws_bench.py: it answers every user_speak with a
// speak action echoing the caller's words and nothing else. Port from $PORT.
const WebSocket = require('ws');

const server = new WebSocket.Server({ port: Number(process.env.PORT || 8080), perMessageDeflate: false });

server.on('connection', (socket) => {
  socket.on('message', (data) => {
    const event = JSON.parse(data.toString());
    if (event.type === 'user_speak') {
      socket.send(JSON.stringify({ type: 'speak', session_id: event.session.id, text: `You said: ${event.text}` }));
    }
  });
  socket.on('error', (error) => console.error('WebSocket error:', error));
});
server.on('listening', () => console.log(`listening on ${server.options.port}`));
